// The action editor: remove a key/value row, and show the fields a checkbox enables.
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
})();
