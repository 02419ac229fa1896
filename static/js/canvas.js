// The flow canvas (templates/actions/flow_detail.html): drag-and-drop reorder with Sortable, the action
// catalog opened as a modal dialog, and a card's editor in the side panel. Without it the page still
// works: "+" opens the catalog page, the ↑ ↓ buttons reorder, a card opens the editor's page.
(function () {
  "use strict";

  // After a drop, post the whole tree as the canvas now shows it: "pk:parent pk:branch" per card, in
  // document order (a card before the cards of its branches), so the server can renumber every chain.
  function saveOrder(canvas) {
    var form = canvas.querySelector("#reorder-form");
    form.querySelectorAll("input[name='node']").forEach(function (input) {
      input.remove();
    });
    canvas.querySelectorAll("ol.chain > li.node").forEach(function (node) {
      var chain = node.parentElement;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "node";
      input.value = node.dataset.id + ":" + chain.dataset.parent + ":" + chain.dataset.branch;
      form.appendChild(input);
    });
    canvas.classList.add("is-saving");
    htmx.trigger(form, "submit");
  }

  function makeSortable(root) {
    if (typeof Sortable === "undefined") {
      return;
    }
    var canvas = root.id === "canvas" ? root : root.querySelector("#canvas");
    if (!canvas) {
      return;
    }
    canvas.querySelectorAll("ol.chain").forEach(function (list) {
      if (Sortable.get(list)) {
        return;
      }
      Sortable.create(list, {
        group: "flow",
        handle: ".drag-handle",
        draggable: "li.node",
        animation: 120,
        // Pointer events rather than native drag and drop: the same behaviour in every browser, and
        // nested chains (If/then branches) accept drops reliably.
        forceFallback: true,
        fallbackOnBody: true,
        swapThreshold: 0.65,
        ghostClass: "is-ghost",
        onEnd: function (event) {
          if (event.from !== event.to || event.oldIndex !== event.newIndex) {
            saveOrder(canvas);
          }
        },
      });
    });
  }

  // Keyboard moves re-render the canvas: keep the focus on the button that was pressed.
  var focusId = null;
  var versionBefore = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    // An insert from the catalog changes the canvas too: the dialog's form redraws it.
    var onCanvas = Boolean(
      target && target.id === "canvas" && event.detail.elt.closest("#canvas, #catalog-dialog")
    );
    focusId = active && active.id && onCanvas ? active.id : null;
    versionBefore = onCanvas ? canvasVersion() : null;
  });

  function canvasVersion() {
    var input = document.querySelector("#reorder-form input[name='version']");
    return input ? Number(input.value) : null;
  }

  // A change made on the canvas while the side panel's editor is open takes the next version: when it
  // was the only change, the editor moves to that version too, so that its Save is not refused as stale.
  function followOwnChange() {
    var editorVersion = document.querySelector("#side-panel #action-form input[name='version']");
    var now = canvasVersion();
    var refused = document.querySelector("#canvas .alert-error");
    if (editorVersion && !refused && Number(editorVersion.value) === versionBefore && now === versionBefore + 1) {
      editorVersion.value = String(now);
    }
    versionBefore = null;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    markOpenCard();
    if (target && target.id === "side-panel") {
      panelLoaded(target);
      return;
    }
    if (target && target.id === "catalog-dialog") {
      if (target.open) {
        target.close();
      }
      target.showModal();
      return;
    }
    // An insert from the catalog's dialog is done: close it (detail.elt is the swapped-in canvas).
    var dialog = document.getElementById("catalog-dialog");
    var requester = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (dialog && dialog.open && requester && requester.closest("#catalog-dialog")) {
      dialog.close();
    }
    if (versionBefore !== null) {
      followOwnChange();
    }
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again && !again.disabled) {
        again.focus();
      } else {
        var canvas = document.getElementById("canvas");
        if (canvas) {
          canvas.setAttribute("tabindex", "-1");
          canvas.focus();
        }
      }
      focusId = null;
    }
  });

  // After an insert from the catalog (canvas.py sends this event once the canvas is redrawn): open the new
  // card's editor in the side panel, as a click on the card does.
  document.addEventListener("open-in-panel", function (event) {
    var link = document.getElementById(event.detail.value);
    if (link) {
      link.click();
    }
  });

  // A click on the backdrop (outside the dialog's box) closes the catalog.
  document.addEventListener("click", function (event) {
    var dialog = event.target;
    if (dialog.id === "catalog-dialog" && dialog.open) {
      var box = dialog.getBoundingClientRect();
      var inside =
        event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) {
        dialog.close();
      }
    }
  });

  // --- Side panel --------------------------------------------------------------------------------------
  // A card's link loads the action's editor into #side-panel (hx-get); a save or a delete there redraws
  // the canvas (see the canvas-changed trigger in the template). Closing empties the panel and gives the
  // focus back to the card that opened it.
  var openerId = null;

  function panel() {
    return document.getElementById("side-panel");
  }

  function hasUnsavedEdits() {
    return Boolean(document.querySelector("#side-panel #action-form[data-dirty]"));
  }

  function closePanel() {
    var side = panel();
    if (!side || !side.firstChild) {
      return;
    }
    if (hasUnsavedEdits() && !window.confirm("Close the editor? Your unsaved edits will be lost.")) {
      return;
    }
    side.replaceChildren();
    markOpenCard();
    focusOpener();
  }

  function focusOpener() {
    var opener = openerId && document.getElementById(openerId);
    if (opener) {
      opener.focus();
    } else {
      var canvas = document.getElementById("canvas");
      if (canvas) {
        canvas.setAttribute("tabindex", "-1");
        canvas.focus();
      }
    }
  }

  // The card whose editor is open is marked on the canvas, also after the canvas is redrawn.
  function markOpenCard() {
    var side = panel();
    var open = side && side.firstChild ? openerId : null;
    document.querySelectorAll("#canvas .action-card-link").forEach(function (link) {
      var card = link.closest(".action-card");
      card.classList.toggle("is-open", link.id === open);
      if (link.id === open) {
        link.setAttribute("aria-current", "true");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  function panelLoaded(side) {
    if (!side.firstChild) {
      // Emptied by a delete: the card is gone.
      openerId = null;
      focusOpener();
      return;
    }
    var title = side.querySelector("#panel-title");
    if (title) {
      title.focus({ preventScroll: true });
    }
    side.scrollTop = 0;
  }

  // Opening another card's editor over unsaved edits asks first; the opener is remembered for Close.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var elt = event.detail.elt;
    if (!target || target.id !== "side-panel" || elt.closest("#side-panel")) {
      return;
    }
    if (hasUnsavedEdits() && !window.confirm("Open another action? Your unsaved edits will be lost.")) {
      event.preventDefault();
      return;
    }
    var menu = elt.closest("details.card-menu");
    if (menu) {
      menu.open = false;
    }
    openerId = elt.getAttribute("data-opens") || elt.id || null;
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("#side-panel [data-close-panel]")) {
      closePanel();
    }
  });

  // On the window, so that an Escape the editor used (closing its reference list) is already marked.
  window.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) {
      return;
    }
    var side = panel();
    if (side && side.firstChild) {
      event.preventDefault();
      closePanel();
    }
  });

  // htmx calls this for the body once it starts, then for every swapped-in canvas.
  htmx.onLoad(makeSortable);
})();
