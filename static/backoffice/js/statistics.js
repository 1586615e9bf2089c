/* 会员统计: draw each chart from the ECharts option the page carries beside it (built on the
   server with the numbers of its table) and keep the charts fitted to their boxes. */
(function () {
  "use strict";
  var charts = [];
  var abs = function (value) { return Math.abs(value); };

  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var option = JSON.parse(document.getElementById(box.dataset.option).textContent);
    if (option.absValues) {  // the gender pyramid draws men to the left as negative bars
      delete option.absValues;
      option.xAxis.axisLabel = {formatter: abs};
      option.tooltip.valueFormatter = abs;
    }
    var chart = echarts.init(box);
    chart.setOption(option);
    charts.push(chart);
  });

  var resize = function () { charts.forEach(function (chart) { chart.resize(); }); };
  window.addEventListener("resize", resize);
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(resize);
    document.querySelectorAll("[data-chart]").forEach(function (box) { observer.observe(box); });
  }
})();
