/* Keep what was typed into a form marked data-keep-draft until it is saved.

   A login can end while a liaison is typing (session expiry, a restarted server). The form is
   then sent to the login page and what was typed would be lost. This script copies the form's
   fields into sessionStorage as they are typed (this tab only: nothing lingers on a shared
   office computer once the tab is closed), and when the same form is shown again without a
   success message it puts the values back and says 「已恢复未提交的内容」. A page that reports
   success (an alert-success message) clears the copy.

   Hidden fields (CSRF token, version, one-time token) and files are never kept: the version
   check still refuses a restored draft that someone else has overtaken in the meantime.
   A static file, no inline script, so Content-Security-Policy script-src 'self' holds. */
(function () {
  "use strict";
  var PREFIX = "keep-draft:";
  var NOTICE = "已恢复未提交的内容";
  var SKIP = { hidden: 1, file: 1, password: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function storage() {
    try {
      var probe = PREFIX + "probe";
      window.sessionStorage.setItem(probe, "1");
      window.sessionStorage.removeItem(probe);
      return window.sessionStorage;
    } catch (error) {
      return null; // private mode or storage disabled: the form works as before
    }
  }

  function keyOf(form) {
    var action = form.getAttribute("action") || window.location.pathname;
    return PREFIX + window.location.pathname + "|" + action + "|" + (form.dataset.keepDraft || "");
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      if (!element.name || element.disabled) return false;
      if (element.tagName === "INPUT") return !SKIP[element.type];
      return element.tagName === "TEXTAREA" || element.tagName === "SELECT";
    });
  }

  function read(form) {
    var values = {};
    fields(form).forEach(function (element) {
      if (element.type === "checkbox" || element.type === "radio") {
        if (element.checked) (values[element.name] = values[element.name] || []).push(element.value);
        else values[element.name] = values[element.name] || [];
      } else if (element.tagName === "SELECT" && element.multiple) {
        values[element.name] = Array.prototype.filter
          .call(element.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        values[element.name] = element.value;
      }
    });
    return values;
  }

  function write(form, values) {
    var changed = false;
    fields(form).forEach(function (element) {
      if (!Object.prototype.hasOwnProperty.call(values, element.name)) return;
      var value = values[element.name];
      if (element.type === "checkbox" || element.type === "radio") {
        var on = value.indexOf(element.value) !== -1;
        if (element.checked !== on) { element.checked = on; changed = true; }
      } else if (element.tagName === "SELECT" && element.multiple) {
        Array.prototype.forEach.call(element.options, function (o) {
          var on = value.indexOf(o.value) !== -1;
          if (o.selected !== on) { o.selected = on; changed = true; }
        });
      } else if (element.value !== value) {
        element.value = value;
        changed = true;
      }
    });
    return changed;
  }

  function announce(form, store, key) {
    var notice = document.createElement("div");
    notice.className = "alert alert-info d-flex justify-content-between align-items-center";
    notice.setAttribute("role", "status");
    notice.setAttribute("data-testid", "draft-restored");
    var text = document.createElement("span");
    text.textContent = NOTICE + "（尚未保存，请核对后提交）";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-sm btn-outline-secondary";
    discard.textContent = "放弃这些内容";
    discard.addEventListener("click", function () {
      store.removeItem(key);
      window.location.reload();
    });
    notice.appendChild(text);
    notice.appendChild(discard);
    form.parentNode.insertBefore(notice, form);
  }

  function keep(form, store) {
    var key = keyOf(form);
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (error) { saved = null; }
    if (document.querySelector(".alert-success")) {
      store.removeItem(key); // the last send was saved
    } else if (saved && saved.values && write(form, saved.values)) {
      announce(form, store, key);
    }
    function save() {
      store.setItem(key, JSON.stringify({ values: read(form), at: Date.now() }));
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", save);
  }

  var store = storage();
  if (!store) return;
  document.querySelectorAll("form[data-keep-draft]").forEach(function (form) {
    keep(form, store);
  });
})();
