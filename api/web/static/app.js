/* Progressive enhancement for the pages of api/web. Everything works without it.
 * - The filter form leaves out its empty fields when it is sent, so the
 *   address of a view stays short and shareable (without JavaScript the server
 *   redirects to the same clean address).
 * - A "Copy link to this view" button, where the clipboard is available.
 * No inline code, no third-party requests: allowed by the pages' Content Security Policy.
 */
(function () {
  "use strict";

  function fields(form) {
    var out = [];
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (el.name && (el.tagName === "INPUT" || el.tagName === "SELECT")) out.push(el);
    }
    return out;
  }

  var form = document.getElementById("filters");
  if (form) {
    form.addEventListener("submit", function () {
      fields(form).forEach(function (el) {
        if (el.value.trim() === "") el.disabled = true;
      });
    });
    // Coming back with the Back button restores the page from cache: make the fields usable again.
    window.addEventListener("pageshow", function () {
      fields(form).forEach(function (el) { el.disabled = false; });
    });
  }

  var copy = document.querySelector(".copy-link");
  var status = document.querySelector(".copy-status");
  if (copy && navigator.clipboard && window.isSecureContext) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(window.location.href).then(function () {
        if (status) status.textContent = "Link copied.";
      }, function () {
        if (status) status.textContent = "Could not copy; copy the address from the address bar.";
      });
    });
  }
})();
