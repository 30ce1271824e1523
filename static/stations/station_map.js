/* Station register map (消防站分布图): the stations with coordinates as points over a plain
   background, drawn with ECharts (canvas, no geo component, no tile server) from the API's
   station list with this page's filters (data-url; the script follows `next`). Longitude runs
   across and latitude up on a Web Mercator scale, with the view fitted to the box so the map
   is not stretched; when the deployment names a tile server (STATION_MAP_TILE_URL, passed as
   data-tile-url) its 256 px XYZ tiles are drawn under the points and line up with them.
   Each status has its own shape as well as colour; the legend names both, and the table
   under the map ("地图数据") holds the same stations as text. No inline script: the legend
   comes from a json_script block (CSP script-src 'self'). */
(function () {
  "use strict";
  var box = document.getElementById("station-map");
  if (!box || !window.echarts) return;
  var legend = JSON.parse(document.getElementById(box.dataset.legend).textContent);
  var note = document.getElementById("station-map-note");
  var table = document.getElementById("station-map-table");
  var tileUrl = box.dataset.tileUrl || "";
  var RAD = Math.PI / 180;
  var GRID = { left: 64, right: 16, top: 40, bottom: 36 };
  var MAX_PAGES = 40;
  var TILE = 256;

  function mercatorY(lat) { return Math.log(Math.tan(Math.PI / 4 + (lat * RAD) / 2)) / RAD; }
  function latitude(y) { return (2 * Math.atan(Math.exp(y * RAD)) - Math.PI / 2) / RAD; }
  function escape(text) { return window.echarts.format.encodeHTML(String(text)); }

  function fail(message) {
    if (note) note.textContent = "地图数据加载失败（" + message + "），请查看下方“地图数据”表。";
    if (table) table.open = true;
    box.dataset.loaded = "error";
  }

  function load(url, rows, pages) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (page) {
        rows = rows.concat(page.results);
        if (!page.next || pages >= MAX_PAGES) return rows;
        // Same origin whatever host or scheme the API put in `next` (behind a proxy).
        var next = new URL(page.next, window.location.href);
        return load(next.pathname + next.search, rows, pages + 1);
      });
  }

  load(box.dataset.url, [], 1)
    .then(draw)
    .catch(function (error) { fail(error.message); });

  /* The view: the points' extent with a margin, widened along one axis to the box's
     proportions (x and Mercator y in the same units, so one degree of longitude is as wide
     as it is on a map). */
  function view(points, width, height) {
    var xs = points.map(function (p) { return p.x; });
    var ys = points.map(function (p) { return p.y; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    var ratio = Math.max(width, 1) / Math.max(height, 1);
    var xSpan = Math.max(x1 - x0, 0.02) * 1.15, ySpan = Math.max(y1 - y0, 0.02) * 1.15;
    if (xSpan / ySpan < ratio) xSpan = ySpan * ratio; else ySpan = xSpan / ratio;
    return { x0: cx - xSpan / 2, x1: cx + xSpan / 2, y0: cy - ySpan / 2, y1: cy + ySpan / 2 };
  }

  /* XYZ tiles covering the view, each cropped to the plot area (graphic elements are not
     clipped by the grid). */
  function tiles(chart, v, width) {
    if (!tileUrl) return [];
    var zoom = Math.floor(Math.log2((width / TILE) * (360 / (v.x1 - v.x0))));
    zoom = Math.max(0, Math.min(18, zoom));
    var n = Math.pow(2, zoom);
    function tileX(x) { return Math.floor(((x + 180) / 360) * n); }
    function tileY(y) { return Math.floor(((1 - (y * RAD) / Math.PI) / 2) * n); }
    function edgeY(t) { return (Math.PI * (1 - (2 * t) / n)) / RAD; }
    var topLeft = chart.convertToPixel({ gridIndex: 0 }, [v.x0, v.y1]);
    var bottomRight = chart.convertToPixel({ gridIndex: 0 }, [v.x1, v.y0]);
    var elements = [];
    for (var tx = tileX(v.x0); tx <= tileX(v.x1); tx++) {
      for (var ty = tileY(v.y1); ty <= tileY(v.y0); ty++) {
        if (tx < 0 || ty < 0 || tx >= n || ty >= n || elements.length > 256) continue;
        var a = chart.convertToPixel({ gridIndex: 0 }, [(tx / n) * 360 - 180, edgeY(ty)]);
        var b = chart.convertToPixel({ gridIndex: 0 }, [((tx + 1) / n) * 360 - 180, edgeY(ty + 1)]);
        var left = Math.max(a[0], topLeft[0]), right = Math.min(b[0], bottomRight[0]);
        var top = Math.max(a[1], topLeft[1]), bottom = Math.min(b[1], bottomRight[1]);
        if (right <= left || bottom <= top) continue;
        var scale = TILE / (b[0] - a[0]);
        elements.push({
          type: "image", silent: true, z: -10,
          style: {
            image: tileUrl.replace("{z}", zoom).replace("{x}", tx).replace("{y}", ty),
            x: left, y: top, width: right - left, height: bottom - top,
            sx: (left - a[0]) * scale, sy: (top - a[1]) * scale,
            sWidth: (right - left) * scale, sHeight: (bottom - top) * scale
          }
        });
      }
    }
    return elements;
  }

  function draw(stations) {
    var points = stations
      .filter(function (s) { return s.lon !== null && s.lat !== null; })
      .map(function (s) {
        var lon = Number(s.lon), lat = Number(s.lat);
        return { name: s.name, status: s.status, lon: lon, lat: lat, x: lon, y: mercatorY(lat) };
      });
    if (!points.length) { fail("没有带坐标的消防站"); return; }
    var byValue = {};
    legend.forEach(function (item) { byValue[item.value] = item; });
    var chart = window.echarts.init(box, null, { renderer: "canvas" });

    function render() {
      var width = box.clientWidth - GRID.left - GRID.right;
      var height = box.clientHeight - GRID.top - GRID.bottom;
      var v = view(points, width, height);
      chart.setOption({
        animation: false,
        aria: { enabled: true, label: { description: box.getAttribute("aria-label") } },
        grid: GRID,
        tooltip: {
          trigger: "item",
          formatter: function (params) {
            var p = params.data.point;
            return escape(p.name) + "<br>" + escape(byValue[p.status] ? byValue[p.status].label : p.status) +
              "<br>经度 " + p.lon.toFixed(6) + "，纬度 " + p.lat.toFixed(6);
          }
        },
        legend: {
          top: 0, left: "center", itemWidth: 14, itemHeight: 14,
          data: legend.map(function (item) { return item.label; }),
          formatter: function (name) {
            var item = legend.filter(function (i) { return i.label === name; })[0];
            return item ? name + "（" + item.shape + "）" : name;
          }
        },
        xAxis: {
          type: "value", name: "经度", nameLocation: "middle", nameGap: 22, min: v.x0, max: v.x1,
          axisLabel: { formatter: function (x) { return x.toFixed(2) + "°"; } },
          splitLine: { lineStyle: { color: "#e9ecef" } }
        },
        yAxis: {
          type: "value", name: "纬度", nameLocation: "middle", nameGap: 48, min: v.y0, max: v.y1,
          axisLabel: { formatter: function (y) { return latitude(y).toFixed(2) + "°"; } },
          splitLine: { lineStyle: { color: "#e9ecef" } }
        },
        series: legend.map(function (item) {
          return {
            name: item.label, type: "scatter", symbol: item.symbol, symbolSize: 13, z: 2,
            itemStyle: { color: item.color, borderColor: "#fff", borderWidth: 1 },
            data: points
              .filter(function (p) { return p.status === item.value; })
              .map(function (p) { return { name: p.name, value: [p.x, p.y], point: p }; })
          };
        })
      }, { notMerge: true });
      var layer = tiles(chart, v, width);
      if (layer.length) chart.setOption({ graphic: { elements: layer } });
    }

    render();
    box.dataset.loaded = "true";
    box.dataset.count = String(points.length);
    window.addEventListener("resize", function () { chart.resize(); render(); });
  }
})();
