/* Dashboards: every .dash-chart element is drawn from its panel in #dashboard-data (the same
 * rows as the table under it). Charts: map (districts of Sichuan and Chongqing coloured by
 * the share, over the offline outline loaded by telemetry/live.js's GuanjiaMap), bar, hbar,
 * line, pie. SVG renderer, so the charts print and can be inspected. On the 大屏
 * (#screen[data-feed]) the figures are fetched again every data-refresh-s seconds.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var theme = script.dataset.theme === "dark" ? "dark" : null;
  var geoUrls = script.dataset.geo || "";
  var charts = {};

  function series(panel, type, horizontal) {
    return panel.data.series.map(function (s) {
      return {name: s.name, type: type, data: s.values, barMaxWidth: 36,
              stack: panel.key === "chart-cases" ? "cases" : undefined,
              label: {show: panel.data.series.length === 1, position: horizontal ? "right" : "top"},
              connectNulls: false};
    });
  }

  function optionFor(panel) {
    var base = {aria: {enabled: true}, backgroundColor: "transparent",
                tooltip: {trigger: panel.chart === "pie" || panel.chart === "map" ? "item" : "axis"}};
    var legend = panel.data.series && panel.data.series.length > 1 ? {top: 0} : undefined;
    if (panel.chart === "map") {
      return Object.assign(base, {
        visualMap: {min: 0, max: 100, left: 10, bottom: 10, text: ["100%", "0%"], calculable: true,
                    inRange: {color: ["#d94e5d", "#eac736", "#50a3ba"]}},
        series: [{type: "map", map: window.GuanjiaMap.name, roam: true, aspectScale: 0.85,
                  name: panel.title, data: panel.data.areas,
                  itemStyle: {areaColor: theme ? "#16324f" : "#f3f6f9", borderColor: "#9db1c6"},
                  label: {show: false}}]
      });
    }
    if (panel.chart === "pie") {
      var s = panel.data.series[0];
      return Object.assign(base, {
        legend: {bottom: 0},
        series: [{type: "pie", radius: ["35%", "65%"], name: s.name,
                  data: panel.data.labels.map(function (l, i) { return {name: l, value: s.values[i]}; })}]
      });
    }
    var horizontal = panel.chart === "hbar";
    var category = {type: "category", data: panel.data.labels, inverse: horizontal,
                    axisLabel: {width: 140, overflow: "truncate"}};
    var value = {type: "value", minInterval: 1};
    return Object.assign(base, {
      legend: legend,
      grid: {left: horizontal ? 150 : 48, right: 32, top: legend ? 32 : 24, bottom: 32},
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series(panel, panel.chart === "line" ? "line" : "bar", horizontal)
    });
  }

  function draw(board) {
    board.panels.forEach(function (panel) {
      var el = document.getElementById(panel.key);
      if (!el || !panel.chart) { return; }
      var chart = charts[panel.key] || (charts[panel.key] = echarts.init(el, theme, {renderer: "svg"}));
      var option = optionFor(panel);
      if (!panel.rows.length) {  // say so rather than draw empty axes
        option.title = {text: "暂无数据", left: "center", top: "middle",
                        textStyle: {color: "#999", fontSize: 14, fontWeight: "normal"}};
      }
      chart.setOption(option, true);
    });
  }

  function fillTables(board) {
    board.panels.forEach(function (panel) {
      var body = document.querySelector('table[data-table="' + panel.key + '"] tbody');
      if (!body) { return; }
      body.innerHTML = "";
      panel.rows.forEach(function (row) {
        var tr = document.createElement("tr");
        row.forEach(function (v) {
          var td = document.createElement("td");
          td.textContent = v === null ? "—" : v;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    });
    board.cards.forEach(function (card, i) {
      var el = document.querySelector('[data-card="' + i + '"]');
      if (el) { el.textContent = card.value === null ? "—" : card.value + (card.unit ? " " + card.unit : ""); }
    });
  }

  var board = JSON.parse(document.getElementById("dashboard-data").textContent);
  var needsMap = board.panels.some(function (p) { return p.chart === "map"; });
  var ready = needsMap ? window.GuanjiaMap.load(geoUrls) : Promise.resolve();
  ready.then(function () { draw(board); });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  var screen = document.getElementById("screen");
  if (screen && screen.dataset.feed) {
    var clock = document.getElementById("screen-clock");
    window.setInterval(function () { if (clock) { clock.textContent = new Date().toLocaleTimeString("zh-CN"); } }, 1000);
    window.setInterval(function () {
      fetch(screen.dataset.feed, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (fresh) { ready.then(function () { draw(fresh); fillTables(fresh); }); })
        .catch(function () { /* keep the last figures until the next refresh */ });
    }, Number(screen.dataset.refreshS || 60) * 1000);
  }
  window.guanjiaDashboard = {charts: charts, board: board};
})();
