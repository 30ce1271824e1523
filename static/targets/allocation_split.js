// 「分解」 page: adds up the parts as they are typed and says whether they exceed the whole.
// A hint only: the server checks the sum again (targets.allocations.split_allocation).
// Reads plain numbers (full-width digits and thousands commas too); anything else the server
// reads (3万 …) shows as "?" until saved.
(function () {
  "use strict";
  var form = document.getElementById("split-form");
  if (!form) return;
  var total = document.getElementById("split-total");
  var state = document.getElementById("split-state");
  var whole = form.dataset.whole === "" ? null : Number(form.dataset.whole);

  function read(text) {
    var plain = text
      .replace(/[\uff10-\uff19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xfee0); })
      .replace(/[\uff0c,\s]/g, "")
      .replace(/\uff0e/g, ".");
    if (plain === "") return 0;
    return /^\d+(\.\d+)?$/.test(plain) ? Number(plain) : NaN;
  }

  function update() {
    var sum = 0;
    var unknown = false;
    form.querySelectorAll("input.split-part").forEach(function (input) {
      var value = read(input.value);
      if (isNaN(value)) unknown = true; else sum += value;
    });
    // Four decimal places, as the values are stored; no floating-point tails.
    sum = Math.round(sum * 10000) / 10000;
    total.textContent = unknown ? "?" : String(sum);
    state.className = "";
    if (unknown) {
      state.textContent = "（有无法识别的数值，保存时再核对）";
    } else if (whole !== null && sum > whole) {
      state.textContent = "超过上级 " + String(Math.round((sum - whole) * 10000) / 10000) + "，无法保存";
      state.className = "text-danger";
    } else if (whole !== null && sum < whole) {
      state.textContent = "尚余 " + String(Math.round((whole - sum) * 10000) / 10000) + " 未分解";
      state.className = "text-warning-emphasis";
    } else if (whole !== null) {
      state.textContent = "与上级相符";
      state.className = "text-success";
    } else {
      state.textContent = "";
    }
  }

  form.addEventListener("input", update);
  update();
})();
