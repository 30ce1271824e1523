/* Dashboard charts (overview, region page, 简报): drawn with ECharts from the JSON the API
   gives (GET /api/v1/charts/, /api/v1/regions/{id}/charts/, /api/v1/plans/{id}/charts/).
   The tables under each chart (templates/reports/charts.html) hold the same numbers. */
(function () {
  "use strict";
  var section = document.querySelector("[data-testid=charts]");
  if (!section || !window.echarts) return;
  var note = document.getElementById("charts-note");
  var drawn = [];
  var LIGHTS = [
    ["met", "已完成", "#198754"], ["on_track", "正常", "#20c997"], ["lagging", "滞后", "#ffc107"],
    ["critical", "严重滞后", "#dc3545"], ["no_data", "未填报", "#adb5bd"], ["unmet", "未完成", "#842029"]
  ];
  var CHANGES = [["approved", "审核通过", "#198754"], ["returned", "退回", "#dc3545"], ["adjusted", "指标调整", "#0d6efd"]];

  function say(text) { if (note) note.textContent = text; }
  function short(text, n) { return text.length > n ? text.slice(0, n) + "…" : text; }

  function chart(id, option) {
    var box = document.getElementById(id);
    if (!box) return;
    option.animation = false;
    option.tooltip = option.tooltip || { trigger: "axis", renderMode: "richText" };  // no HTML: CSP-safe
    var instance = echarts.init(box, null, { renderer: "canvas" });
    instance.setOption(option);
    box.dataset.loaded = "true";
    drawn.push(instance);
  }

  fetch(section.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(draw)
    .catch(function (error) { say("图表数据加载失败（" + error.message + "），请查看各图下方的数据表。"); });

  function draw(data) {
    var titles = data.plans.map(function (p) { return short(p.title, 12); });
    chart("chart-plans", {
      legend: { top: 0, data: LIGHTS.map(function (l) { return l[1]; }) },
      grid: { left: 40, right: 20, top: 40, bottom: 70 },
      xAxis: { type: "category", data: titles, axisLabel: { rotate: titles.length > 3 ? 25 : 0 } },
      yAxis: { type: "value", name: "指标数", minInterval: 1 },
      series: LIGHTS.map(function (l) {
        return { name: l[1], type: "bar", stack: "lights", itemStyle: { color: l[2] },
          data: data.plans.map(function (p) { return p.counts[l[0]]; }) };
      })
    });

    var regions = data.regions.slice().reverse();  // furthest behind on top
    var names = regions.map(function (r) { return r.region_name; });
    chart("chart-regions", {
      legend: { top: 0, data: ["完成率", "序时进度", "有滞后的约束性指标"] },
      grid: { left: 90, right: 30, top: 40, bottom: 30 },
      yAxis: { type: "category", data: names },
      xAxis: { type: "value", name: "%", max: 100 },
      series: [
        { name: "完成率", type: "bar", itemStyle: { color: "#198754" },
          data: regions.map(function (r) { return r.completion; }) },
        { name: "序时进度", type: "bar", itemStyle: { color: "#adb5bd" },
          data: regions.map(function (r) { return r.pace; }) },
        { name: "有滞后的约束性指标", type: "scatter", symbol: "triangle", symbolSize: 14,
          itemStyle: { color: "#dc3545" },
          label: { show: true, position: "right", formatter: function (p) { return "约束性滞后 " + p.value[2]; } },
          data: regions.map(function (r, i) {
            return r.binding_lagging ? [r.completion === null ? 0 : r.completion, i, r.binding_lagging] : null;
          }).filter(function (v) { return v !== null; }) }
      ]
    });

    var years = [];
    data.binding_series.forEach(function (s) {
      s.points.forEach(function (p) { if (years.indexOf(p.year) < 0) years.push(p.year); });
    });
    years.sort();
    chart("chart-binding", {
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: years.map(String) },
      yAxis: { type: "value", name: "完成率 %" },
      series: data.binding_series.map(function (s) {
        var byYear = {};
        s.points.forEach(function (p) { byYear[p.year] = p.completion; });
        return { name: short(s.name, 14), type: "line", connectNulls: true,
          data: years.map(function (y) { return y in byYear ? byYear[y] : null; }) };
      })
    });

    var reporting = data.reporting;
    chart("chart-reporting", {
      grid: { left: 40, right: 20, top: 30, bottom: 70 },
      xAxis: { type: "category", data: reporting.map(function (r) { return r.region_name; }),
        axisLabel: { rotate: reporting.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", name: "按时率 %", max: 100 },
      series: [{ name: "按时率", type: "bar", itemStyle: { color: "#0d6efd" },
        data: reporting.map(function (r) { return r.on_time_rate; }) }]
    });

    chart("chart-changes", {
      grid: { left: 40, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: CHANGES.map(function (c) { return c[1]; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: "自 " + data.changes.since, type: "bar",
        data: CHANGES.map(function (c) { return { value: data.changes[c[0]], itemStyle: { color: c[2] } }; }) }]
    });

    section.dataset.loaded = "true";
    window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
  }
})();
