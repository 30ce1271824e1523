/* Progress bars: the width is in data-width (0–100), set here through the CSSOM because the
   Content-Security-Policy forbids style attributes. Also after htmx swaps in new content. */
(function () {
  "use strict";
  function apply(root) {
    root.querySelectorAll("[data-width]").forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.width) || 0));
      bar.style.width = percent + "%";
    });
  }
  apply(document);
  document.addEventListener("htmx:afterSwap", function (event) { apply(event.target); });
})();
