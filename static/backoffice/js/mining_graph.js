// The rule graph: items as nodes sized by support, rules as arrows weighted by lift.
(function () {
  var element = document.getElementById("rule-graph");
  if (!element) { return; }
  var graph = JSON.parse(document.getElementById("graph-data").textContent);
  var lifts = graph.links.map(function (l) { return l.value; });
  var low = Math.min.apply(null, lifts), high = Math.max.apply(null, lifts);
  function width(lift) { return high > low ? 1 + 5 * (lift - low) / (high - low) : 2; }
  var chart = echarts.init(element);
  chart.setOption({
    tooltip: {
      formatter: function (p) {
        var html = echarts.format.encodeHTML;  // item names come from the tills: text only
        if (p.dataType === "edge") {
          return html(p.data.rule) + "<br>" + element.dataset.liftLabel + " " + p.data.value.toFixed(2) +
            " · " + element.dataset.confidenceLabel + " " + (100 * p.data.confidence).toFixed(1) + "%";
        }
        return html(p.data.name) + "<br>" + element.dataset.supportLabel + " " + (100 * p.data.value).toFixed(2) + "%";
      }
    },
    series: [{
      type: "graph",
      // a force layout while it stays readable, then a circle
      layout: graph.nodes.length > 40 ? "circular" : "force",
      circular: {rotateLabel: true},
      force: {repulsion: 500, edgeLength: [90, 200], gravity: 0.12},
      zoom: Math.max(1, 2 - graph.nodes.length / 10),  // a few items: closer up
      left: 40, right: 80, top: 30, bottom: 30,
      roam: true,
      draggable: true,
      label: {show: true, position: "right", fontSize: 12},
      edgeSymbol: ["none", "arrow"],
      edgeSymbolSize: 7,
      emphasis: {focus: "adjacency", lineStyle: {width: 6}},
      lineStyle: {color: "source", curveness: 0.15, opacity: 0.7},
      data: graph.nodes,
      links: graph.links.map(function (l) {
        return Object.assign({lineStyle: {width: width(l.value)}}, l);
      })
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
