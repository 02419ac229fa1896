// The action editor: remove a key/value row, show the fields a checkbox enables, switch the output view
// and copy the request as a curl command.
// No inline handlers (strict CSP): everything is delegated from the document.
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

  document.addEventListener("DOMContentLoaded", function () {
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
})();
