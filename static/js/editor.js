// The action editor: remove a key/value row, show the fields a checkbox enables, switch the output view,
// copy the request as a curl command, suggest references after "{{" and warn before leaving unsaved edits.
// No inline handlers (strict CSP): everything is delegated from the document, and what the editor's
// content needs is set up again whenever htmx swaps one in (the canvas's side panel).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-row]");
    if (!button) {
      return;
    }
    var row = button.closest(".kv-row");
    var rows = row && row.parentElement;
    if (!row) {
      return;
    }
    markDirty();
    // The last row is emptied rather than removed, so there is always one to type in.
    if (rows.querySelectorAll(".kv-row").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input").forEach(function (input) {
        input.value = "";
      });
    }
  });

  // <div data-shown-by="id_of_checkbox">: shown while the checkbox is checked.
  function sync(root) {
    root.querySelectorAll("[data-shown-by]").forEach(function (section) {
      var checkbox = document.getElementById(section.getAttribute("data-shown-by"));
      if (checkbox) {
        section.hidden = !checkbox.checked;
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox]")) {
      sync(document);
    }
  });

  htmx.onLoad(function () {
    sync(document);
  });

  // Test result: the Pretty / Raw views of the output.
  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[role=tab][data-view]");
    var views = tab && tab.closest(".output-views");
    if (!views) {
      return;
    }
    var chosen = tab.getAttribute("data-view");
    views.querySelectorAll("[role=tab][data-view]").forEach(function (each) {
      each.setAttribute("aria-selected", String(each === tab));
    });
    views.querySelectorAll("[data-view-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-view-panel") !== chosen;
    });
  });

  // Copy as cURL: the command in the <pre> beside the button. Without clipboard access (a page served
  // over plain http), the command is selected for the user to copy.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-curl]");
    var box = button && button.closest(".curl-copy");
    if (!box) {
      return;
    }
    var pre = box.querySelector("pre");
    var status = box.querySelector("[data-copy-status]");
    function selectByHand() {
      window.getSelection().selectAllChildren(pre);
      status.textContent = "Selected: press Ctrl+C (⌘C) to copy";
    }
    if (!navigator.clipboard) {
      selectByHand();
      return;
    }
    navigator.clipboard.writeText(pre.textContent).then(function () {
      status.textContent = "Copied";
    }, selectByHand);
  });

  // --- Unsaved changes -------------------------------------------------------------------------------
  // Leaving the page with edits of the action that are not saved asks first. The Test input is not part
  // of the action; a page shown again after a refused save holds unsaved edits from the start.
  // The mark is on the form itself (data-dirty), so it goes with the form when htmx replaces it, and the
  // canvas can ask before closing its side panel.
  function form() {
    return document.getElementById("action-form");
  }

  function markDirty() {
    var editor = form();
    if (editor) {
      editor.setAttribute("data-dirty", "");
    }
  }

  function markClean() {
    var editor = form();
    if (editor) {
      editor.removeAttribute("data-dirty");
    }
  }

  function isActionEdit(target) {
    return Boolean(target.closest && target.closest("#action-form") && !target.closest(".test-panel"));
  }

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (isActionEdit(event.target)) {
        markDirty();
      }
    });
  });

  htmx.onLoad(function (root) {
    var editor = form();
    if (editor && root.contains(editor) && editor.hasAttribute("data-unsaved")) {
      markDirty();
    }
    // A new editor brings the references of its action's place.
    if (root.id === "reference-list" || (root.querySelector && root.querySelector("#reference-list"))) {
      references = null;
      close();
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id === "action-form") {
      markClean();
    }
  });

  // Deleting the action (after its own confirmation) discards the edits on purpose.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.closest("[data-discards-edits]")) {
      markClean();
    }
  });

  // Import from cURL replaces the parameters: they are edits too.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "params-card") {
      markDirty();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    var editor = form();
    if (editor && editor.hasAttribute("data-dirty")) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // --- Autocomplete of references ---------------------------------------------------------------------
  // Typing "{{" in a text field of the parameters opens a listbox of the references the action can use
  // (see allReferences), filtered by what follows. Arrow keys move, Enter or Tab inserts, Escape closes
  // until the next "{{"; a click inserts too.
  var MAX_SHOWN = 50;
  var references = null;
  var state = { field: null, options: [], active: -1, dismissed: null };

  // A page holds them in <script id="references">, the canvas's side panel on the list itself.
  function allReferences() {
    if (references === null) {
      var data = document.getElementById("references");
      var list = listbox();
      if (data) {
        references = JSON.parse(data.textContent);
      } else if (list && list.dataset.references) {
        references = JSON.parse(list.dataset.references);
      } else {
        references = [];
      }
    }
    return references;
  }

  function listbox() {
    return document.getElementById("reference-list");
  }

  function isParamsField(element) {
    return Boolean(
      element.closest &&
        element.closest("#params-card") &&
        element.matches("textarea, input[type=text], input:not([type])")
    );
  }

  // The "{{" still open before the caret, and the reference being typed (after "{{", "(", "," or "??").
  function openExpression(field) {
    var caret = field.selectionStart;
    if (caret === null || caret !== field.selectionEnd) {
      return null;
    }
    var before = field.value.slice(0, caret);
    var start = before.lastIndexOf("{{");
    if (start === -1 || before.indexOf("}}", start) !== -1) {
      return null;
    }
    var inside = before.slice(start + 2);
    if (inside.indexOf("\n") !== -1) {
      return null;
    }
    var token = inside.match(/[^\s(),?]*$/)[0];
    return {
      start: start,
      caret: caret,
      token: token,
      whole: inside.slice(0, inside.length - token.length).trim() === "",
    };
  }

  // Whether the pieces of the query ("act.stat") appear in the path in order ("actions.get_user.status").
  function inOrder(path, pieces) {
    var at = 0;
    return pieces.every(function (piece) {
      var found = path.indexOf(piece, at);
      at = found + piece.length;
      return found !== -1;
    });
  }

  // The references the typed text matches: those it starts first, then those containing it, then those
  // holding its dotted pieces in order.
  function matching(token) {
    var query = token.toLowerCase();
    var pieces = query.split(".").filter(Boolean);
    var ranked = [[], [], []];
    allReferences().forEach(function (reference) {
      var path = reference.path.toLowerCase();
      if (path.indexOf(query) === 0) {
        ranked[0].push(reference);
      } else if (path.indexOf(query) !== -1) {
        ranked[1].push(reference);
      } else if (inOrder(path, pieces)) {
        ranked[2].push(reference);
      }
    });
    return ranked[0].concat(ranked[1], ranked[2]).slice(0, MAX_SHOWN);
  }

  function close() {
    var list = listbox();
    if (list) {
      list.hidden = true;
      list.replaceChildren();
    }
    if (state.field) {
      state.field.removeAttribute("aria-activedescendant");
      state.field.removeAttribute("aria-controls");
      state.field.removeAttribute("aria-autocomplete");
    }
    state.field = null;
    state.options = [];
    state.active = -1;
    announce("");
  }

  function announce(text) {
    var status = document.getElementById("reference-status");
    if (status) {
      status.textContent = text;
    }
  }

  // Fixed, in viewport coordinates, so that a scrolling side panel does not clip it: below the field, or
  // above it when there is more room there, never past the window's edge.
  var GAP = 2;
  function place(list, field) {
    var box = field.getBoundingClientRect();
    list.style.minWidth = Math.min(Math.max(box.width, 280), 640) + "px";
    var below = window.innerHeight - box.bottom - 2 * GAP;
    var above = box.top - 2 * GAP;
    list.style.maxHeight = "";
    var room = list.offsetHeight > below && above > below ? above : below;
    list.style.maxHeight = Math.max(Math.min(list.offsetHeight, room), 48) + "px";
    list.style.left = box.left + "px";
    list.style.top = (room === below ? box.bottom + GAP : box.top - GAP - list.offsetHeight) + "px";
  }

  function open(field, found) {
    var list = listbox();
    if (!list) {
      return;
    }
    list.replaceChildren();
    found.forEach(function (reference, index) {
      var option = document.createElement("li");
      option.id = "reference-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.path = reference.path;
      var code = document.createElement("code");
      code.textContent = reference.path;
      var kind = document.createElement("span");
      kind.className = "reference-kind";
      kind.textContent = reference.kind;
      option.append(code, " ", kind);
      list.append(option);
    });
    state.field = field;
    state.options = found;
    field.setAttribute("aria-controls", "reference-list");
    field.setAttribute("aria-autocomplete", "list");
    list.hidden = false;
    place(list, field);
    highlight(0);
    announce(
      found.length + " reference" + (found.length === 1 ? "" : "s") + ": arrow keys to choose, Enter to insert"
    );
  }

  function highlight(index) {
    var list = listbox();
    var options = list.querySelectorAll("[role=option]");
    state.active = index;
    options.forEach(function (option, each) {
      option.setAttribute("aria-selected", String(each === index));
    });
    if (options[index]) {
      options[index].scrollIntoView({ block: "nearest" });
      state.field.setAttribute("aria-activedescendant", options[index].id);
    }
  }

  function update(field) {
    var expression = openExpression(field);
    var dismissed = state.dismissed;
    if (!expression) {
      state.dismissed = null;
      close();
      return;
    }
    if (dismissed && dismissed.field === field && dismissed.start === expression.start) {
      close();
      return;
    }
    state.dismissed = null;
    var found = matching(expression.token);
    if (found.length === 0) {
      close();
      return;
    }
    open(field, found);
  }

  // Replaces the typed reference by `path`; a whole expression is completed as "{{ path }}". A function
  // gets its parentheses, the caret between them.
  function insert(field, path) {
    var expression = openExpression(field);
    if (!expression) {
      return;
    }
    var value = field.value;
    var after = value.slice(expression.caret);
    var call = path.slice(-1) === "(";
    var text = call ? path + ")" : path;
    var caretBack = call ? 1 : 0;
    var from = expression.caret - expression.token.length;
    if (expression.whole) {
      from = expression.start + 2;
      text = " " + text;
      if (/^\s*\}\}/.test(after)) {
        after = " " + after.replace(/^\s*/, "");
      } else {
        text += " }}";
        caretBack += call ? 3 : 0;
      }
    }
    field.value = value.slice(0, from) + text + after;
    var caret = from + text.length - caretBack;
    field.setSelectionRange(caret, caret);
    close();
    markDirty();
    field.focus();
  }

  document.addEventListener("input", function (event) {
    if (isParamsField(event.target)) {
      update(event.target);
    }
  });

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field !== state.field || state.options.length === 0) {
      return;
    }
    var count = state.options.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight((state.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if (event.key === "Enter" || event.key === "Tab") {
      if (state.active >= 0) {
        event.preventDefault();
        insert(field, state.options[state.active].path);
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      var expression = openExpression(field);
      state.dismissed = expression ? { field: field, start: expression.start } : null;
      close();
    }
  });

  // Moving the caret in or out of an expression opens or closes the list.
  document.addEventListener("keyup", function (event) {
    if (isParamsField(event.target) && /^(ArrowLeft|ArrowRight|Home|End)$/.test(event.key)) {
      update(event.target);
    }
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest("#reference-list [role=option]");
    if (option && state.field) {
      insert(state.field, option.dataset.path);
    } else if (isParamsField(event.target) && event.target !== state.field) {
      close();
    }
  });

  // A press on the list must not take the focus from the field (which would close the list).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest("#reference-list")) {
      event.preventDefault();
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === state.field) {
      close();
    }
  });

  function follow() {
    if (state.field) {
      place(listbox(), state.field);
    }
  }

  window.addEventListener("resize", follow);
  // Any scroll (the page's or the panel's) moves the field: the list follows it.
  document.addEventListener("scroll", follow, true);
})();
