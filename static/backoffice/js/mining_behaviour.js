// 消费行为分析: spend per buyer and per receipt, and category shares, per segment.
(function () {
  var data = JSON.parse(document.getElementById("behaviour-data").textContent);
  var spendElement = document.getElementById("spend-chart");
  var spend = echarts.init(spendElement);
  spend.setOption({
    tooltip: {trigger: "axis"},
    legend: {top: 0},
    grid: {left: 56, right: 16, bottom: 48, top: 36},
    xAxis: {type: "category", data: data.labels, axisLabel: {interval: 0, rotate: data.labels.length > 5 ? 30 : 0}},
    yAxis: {type: "value"},
    series: [
      {type: "bar", name: spendElement.dataset.perBuyer, data: data.per_buyer},
      {type: "bar", name: spendElement.dataset.perReceipt, data: data.per_receipt}
    ]
  });
  var categoryElement = document.getElementById("category-chart");
  var categories = echarts.init(categoryElement);
  var series = data.categories.map(function (name, i) {
    return {type: "bar", stack: "share", name: name, data: data.shares.map(function (row) { return row[i]; })};
  });
  series.push({type: "bar", stack: "share", name: categoryElement.dataset.other, data: data.other,
               itemStyle: {color: "#c9cdd4"}});
  categories.setOption({
    tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: function (v) { return v + "%"; }},
    legend: {top: 0, type: "scroll"},
    grid: {left: 8, right: 16, bottom: 8, top: 36, containLabel: true},
    xAxis: {type: "value", max: 100, axisLabel: {formatter: "{value}%"}},
    yAxis: {type: "category", data: data.labels, inverse: true},
    series: series
  });
  window.addEventListener("resize", function () { spend.resize(); categories.resize(); });
})();
