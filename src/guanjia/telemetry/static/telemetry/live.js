/* The live map: ECharts over the offline outline of Sichuan and Chongqing.
 *
 * Polls the live API every few seconds (data-poll-ms) with the agency chosen and the
 * box in view; draws vehicles as points (moving / parked / offline) or, when the API
 * aggregates (province scale), grid cells sized by their count. Coordinates are drawn as
 * reported (WGS-84): the basemap is a province outline, not a GCJ-02 tile set, so no
 * conversion is applied. `window.liveMap` exposes the chart and the last answer.
 */
(function () {
  "use strict";

  var MAP = "chuanyu";
  var COLORS = {moving: "#1f8a3b", parked: "#2b5c8a", offline: "#999999"};
  var LABELS = {moving: "行驶", parked: "停放", offline: "离线"};

  function loadGeo(urls) {
    if (echarts.getMap(MAP)) { return Promise.resolve(); }
    return Promise.all(urls.split(" ").filter(Boolean).map(function (u) {
      return fetch(u, {credentials: "same-origin"}).then(function (r) { return r.json(); });
    })).then(function (parts) {
      var features = [];
      parts.forEach(function (fc) { features = features.concat(fc.features); });
      echarts.registerMap(MAP, {type: "FeatureCollection", features: features});
    });
  }

  function geoOption() {
    return {
      map: MAP, roam: true, zoom: 1.1, aspectScale: 0.85,
      itemStyle: {areaColor: "#f3f6f9", borderColor: "#9db1c6"},
      emphasis: {disabled: true}, label: {show: false}, select: {disabled: true}
    };
  }

  window.GuanjiaMap = {load: loadGeo, geo: geoOption, name: MAP};

  var el = document.getElementById("live-map");
  if (!el) { return; }

  var chart = echarts.init(el, null, {renderer: "canvas"});
  var status = document.getElementById("live-status");
  var tbody = document.querySelector("#live-table tbody");
  var pollMs = parseInt(el.dataset.pollMs, 10) || 5000;
  var state = {chart: chart, last: null, polls: 0, points: function () {
    return state.last ? state.last.items : [];
  }};
  window.liveMap = state;

  function bbox() {
    var w = chart.getWidth(), h = chart.getHeight();
    try {
      var a = chart.convertFromPixel({geoIndex: 0}, [0, h]);
      var b = chart.convertFromPixel({geoIndex: 0}, [w, 0]);
      if (!a || !b) { return ""; }
      return [a[0], a[1], b[0], b[1]].map(function (x) { return x.toFixed(4); }).join(",");
    } catch (e) { return ""; }
  }

  function row(v) {
    var tr = document.createElement("tr");
    tr.dataset.vehicle = v.vehicle_id;
    var cells = [v.plate, v.time.replace("T", " ").slice(0, 19), v.speed_kmh.toFixed(1),
                 LABELS[v.state] || v.state, v.lat.toFixed(5) + ", " + v.lon.toFixed(5)];
    cells.forEach(function (text, i) {
      var td = document.createElement("td");
      td.textContent = text;
      if (i === 4) { td.className = "nowrap coords"; }
      tr.appendChild(td);
    });
    var td = document.createElement("td");
    var a = document.createElement("a");
    a.href = el.dataset.trackUrl + "?vehicle=" + v.vehicle_id;
    a.textContent = "轨迹";
    td.appendChild(a);
    tr.appendChild(td);
    return tr;
  }

  function draw(data) {
    var series;
    if (data.clustered) {
      series = [{
        id: "cells", type: "scatter", coordinateSystem: "geo",
        data: data.cells.map(function (c) { return {value: [c.lon, c.lat, c.count], moving: c.moving}; }),
        symbolSize: function (v) { return Math.min(48, 8 + Math.sqrt(v[2]) * 2); },
        itemStyle: {color: "rgba(43, 92, 138, 0.7)"},
        label: {show: true, formatter: function (p) { return p.value[2]; }, color: "#fff", fontSize: 10}
      }];
    } else {
      series = [{
        id: "vehicles", type: "scatter", coordinateSystem: "geo", symbolSize: 9,
        data: data.items.map(function (v) {
          return {name: v.plate, value: [v.lon, v.lat, v.speed_kmh], vehicle: v.vehicle_id,
                  itemStyle: {color: COLORS[v.state]}};
        }),
        label: {show: data.items.length <= 50, formatter: "{b}", position: "right", fontSize: 10}
      }];
    }
    chart.setOption({series: series}, {replaceMerge: ["series"]});
    tbody.replaceChildren.apply(tbody, data.items.slice(0, 500).map(row));
    status.textContent = data.clustered
      ? "共 " + data.count + " 辆车（按网格汇总，放大查看单车）"
      : "共 " + data.count + " 辆车，" + new Date(data.server_time * 1000).toLocaleTimeString();
  }

  function poll() {
    var params = new URLSearchParams();
    if (el.dataset.agency) { params.set("agency", el.dataset.agency); }
    var box = state.polls > 0 ? bbox() : "";
    if (box) { params.set("bbox", box); }
    return fetch(el.dataset.api + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) { state.last = data; state.polls += 1; draw(data); })
      .catch(function (e) { status.textContent = "刷新失败：" + e.message; });
  }
  state.poll = poll;

  loadGeo(el.dataset.geo).then(function () {
    chart.setOption({
      tooltip: {trigger: "item", formatter: function (p) {
        return p.name ? p.name + "<br>" + p.value[2].toFixed(1) + " 公里/小时" : "车辆 " + p.value[2];
      }},
      geo: geoOption(), series: []
    });
    chart.on("georoam", function () { window.clearTimeout(state.roam); state.roam = window.setTimeout(poll, 400); });
    chart.on("click", function (p) {
      if (p.data && p.data.vehicle) { window.location = el.dataset.trackUrl + "?vehicle=" + p.data.vehicle; }
    });
    poll();
    state.timer = window.setInterval(poll, pollMs);
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
