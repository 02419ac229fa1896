// The flow canvas (templates/actions/flow_detail.html): drag-and-drop reorder with Sortable, and the
// action catalog opened as a modal dialog. Without it the page still works: "+" opens the catalog page,
// the ↑ ↓ buttons reorder.
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
  document.addEventListener("htmx:beforeRequest", function (event) {
    var active = document.activeElement;
    focusId = active && active.id && event.detail.elt.closest("#canvas") ? active.id : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "catalog-dialog") {
      if (target.open) {
        target.close();
      }
      target.showModal();
      return;
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

  // htmx calls this for the body once it starts, then for every swapped-in canvas.
  htmx.onLoad(makeSortable);
})();
