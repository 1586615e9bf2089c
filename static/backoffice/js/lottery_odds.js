// 抽奖活动 editor: each prize's odds (weight ÷ the weights of the prizes in stock) while typing.
(function () {
  "use strict";
  var table = document.querySelector("[data-prizes]");
  if (!table) { return; }
  function field(row, suffix) { return row.querySelector("[name$='-" + suffix + "']"); }
  function recompute() {
    var rows = Array.prototype.slice.call(table.querySelectorAll("[data-prize-row]"));
    var live = rows.map(function (row) {
      var name = field(row, "name"), weight = field(row, "weight");
      var quantity = field(row, "initial_stock"), remove = field(row, "DELETE");
      var w = parseInt(weight && weight.value, 10);
      var kind = field(row, "kind");
      var unlimited = !quantity || quantity.value === "" || (kind && kind.value === "nothing");
      var q = unlimited ? null : parseInt(quantity.value, 10);
      var counted = name && name.value.trim() && w > 0 && !(remove && remove.checked) && (q === null || q > 0);
      return counted ? w : 0;
    });
    var total = live.reduce(function (a, b) { return a + b; }, 0);
    rows.forEach(function (row, i) {
      var cell = row.querySelector("[data-odds]");
      cell.textContent = total && live[i] ? (live[i] * 100 / total).toFixed(2) + "%" : "–";
    });
  }
  table.addEventListener("input", recompute);
  table.addEventListener("change", recompute);
  recompute();
})();
