/* 打印 buttons: a button with data-action="print" prints the page (the print stylesheet in
   core/site.css hides the navigation, buttons and filter forms). A static file, not an
   inline onclick, so a Content-Security-Policy of script-src 'self' holds. */
(function () {
  "use strict";
  document.querySelectorAll("[data-action=print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
