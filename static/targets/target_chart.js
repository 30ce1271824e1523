/* Target page: planned vs actual by year, and allocations by region, drawn with ECharts from
   the same JSON the API gives outside systems (GET /api/v1/targets/{id}/series/). The table
   under the chart shows the same numbers as text. */
(function () {
  "use strict";
  var box = document.getElementById("target-chart");
  if (!box || !window.echarts) return;
  var regionsBox = document.getElementById("allocation-chart");
  var note = document.getElementById("target-chart-note");

  function say(text) { if (note) note.textContent = text; }

  fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(draw)
    .catch(function (error) { say("图表数据加载失败（" + error.message + "），请查看下方表格。"); });

  function draw(data) {
    var periods = data.points.map(function (p) { return p.period; });
    var planned = data.points.map(function (p) { return p.planned; });
    var actual = data.points.map(function (p) { return p.actual; });
    // Projection: dashed from the latest reported figure (the last year whose actual changed;
    // later years only carry it forward) to the target year.
    var projection = periods.map(function () { return null; });
    var last = -1;
    actual.forEach(function (v, i) {
      if (v !== null && (i === 0 || v !== actual[i - 1])) last = i;
    });
    var end = periods.indexOf(data.projection.period);
    if (last >= 0 && end > last && data.projection.value !== null) {
      projection[last] = actual[last];
      projection[end] = data.projection.value;
    }
    var unit = data.unit || "";
    var chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      title: data.is_demo ? { text: "演示数据", right: 10, top: 0, textStyle: { color: "#6f42c1", fontSize: 13 } } : undefined,
      tooltip: { trigger: "axis", renderMode: "richText" },  // no HTML: CSP-safe
      legend: { top: 0, left: "center", data: ["计划（累计）", "实际（已审核）", "趋势预计"] },
      grid: { left: 50, right: 30, top: 56, bottom: 30 },
      xAxis: { type: "category", data: periods },
      yAxis: { type: "value", name: unit },
      series: [
        { name: "计划（累计）", type: "line", data: planned, connectNulls: true, symbol: "circle",
          lineStyle: { color: "#0d6efd" }, itemStyle: { color: "#0d6efd" },
          markLine: data.target_value === null ? undefined : {
            symbol: "none",
            label: { position: "insideEndTop", formatter: "目标 " + data.target_value + unit },
            lineStyle: { color: "#6c757d" }, data: [{ yAxis: data.target_value }] } },
        { name: "实际（已审核）", type: "line", data: actual, symbol: "rect", symbolSize: 8,
          lineStyle: { color: "#198754", width: 3 }, itemStyle: { color: "#198754" } },
        { name: "趋势预计", type: "line", data: projection, connectNulls: true, symbol: "triangle",
          lineStyle: { type: "dashed", color: "#b35900" }, itemStyle: { color: "#b35900" } }
      ]
    });
    box.dataset.loaded = "true";
    box.dataset.lastActual = last >= 0 ? String(actual[last]) : "";
    window.addEventListener("resize", function () { chart.resize(); });

    if (regionsBox && data.regions.length) {
      var names = data.regions.map(function (r) { return r.region_name; });
      var bars = echarts.init(regionsBox, null, { renderer: "svg" });
      bars.setOption({
        animation: false,
        tooltip: { trigger: "axis", renderMode: "richText" },  // no HTML: CSP-safe
        legend: { top: 0, left: "center", data: ["分解值", "实际"] },
        grid: { left: 50, right: 30, top: 56, bottom: 60 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", name: unit },
        series: [
          { name: "分解值", type: "bar", data: data.regions.map(function (r) { return r.allocated; }),
            itemStyle: { color: "#adb5bd" } },
          { name: "实际", type: "bar", data: data.regions.map(function (r) { return r.actual; }),
            itemStyle: { color: "#198754" } }
        ]
      });
      regionsBox.dataset.loaded = "true";
      window.addEventListener("resize", function () { bars.resize(); });
    }
  }
})();
