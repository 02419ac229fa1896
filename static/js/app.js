// Flow Designer front-end behaviour. No inline scripts (strict CSP): everything hooks in from here.
// Progressive enhancement only: every page works without it.
(function () {
  "use strict";

  // <form data-confirm="Delete this?"> or <button data-confirm="…">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Put the keyboard where the user has work to do: the first field with an error, else [autofocus].
  function focusFirst(root) {
    var target = root.querySelector("[aria-invalid='true']") || root.querySelector("[autofocus]");
    if (target && typeof target.focus === "function") {
      target.focus();
    }
  }

  // A message in the page's live region (#messages in base.html), for errors htmx would otherwise swallow.
  function announce(text, level) {
    var region = document.getElementById("messages");
    if (!region) {
      return;
    }
    var item = document.createElement("p");
    item.className = "msg msg-" + (level || "error");
    item.textContent = text;
    region.replaceChildren(item);
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirst(document);
  });

  // Only after a form was submitted: live updates (search, previews) must not steal the caret.
  document.addEventListener("htmx:afterSwap", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.elt && config.elt.tagName === "FORM") {
      focusFirst(event.detail.target);
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    announce(
      status === 403
        ? "You are not allowed to do that."
        : status === 400
          ? "The server refused the request (HTTP 400): it is malformed or larger than the server accepts (10 MB by default). Nothing was saved."
          : "The server could not handle that request (HTTP " + status + "). Please try again."
    );
    var region = document.getElementById("messages");
    if (region) region.scrollIntoView({ block: "nearest" });
  });

  document.addEventListener("htmx:sendError", function () {
    announce("The server could not be reached. Check your connection and try again.");
  });
})();
