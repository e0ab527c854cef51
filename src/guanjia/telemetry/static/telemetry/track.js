/* Track playback: a vehicle's positions for a period drawn as a line over the offline
 * outline (WGS-84 as reported), with a slider and a play button moving a marker along it.
 * `window.trackPlayback` exposes the chart and the positions. Needs live.js (GuanjiaMap). */
(function () {
  "use strict";
  var el = document.getElementById("track-map");
  if (!el) { return; }
  var chart = echarts.init(el, null, {renderer: "canvas"});
  var status = document.getElementById("track-status");
  var slider = document.getElementById("track-slider");
  var now = document.getElementById("track-now");
  var play = document.getElementById("track-play");
  var state = {chart: chart, positions: [], index: 0, timer: null};
  window.trackPlayback = state;

  function at(i) {
    var p = state.positions[i];
    if (!p) { return; }
    state.index = i;
    slider.value = i;
    now.textContent = p.time.replace("T", " ").slice(0, 19) + "  " + p.speed_kmh.toFixed(1) + " 公里/小时";
    chart.setOption({series: [{id: "car", data: [[p.lon, p.lat]]}]});
  }

  function stop() { window.clearInterval(state.timer); state.timer = null; play.textContent = "播放"; }

  play.addEventListener("click", function () {
    if (state.timer) { stop(); return; }
    if (state.index >= state.positions.length - 1) { at(0); }
    play.textContent = "暂停";
    state.timer = window.setInterval(function () {
      if (state.index >= state.positions.length - 1) { stop(); return; }
      at(state.index + 1);
    }, 200);
  });
  slider.addEventListener("input", function () { at(parseInt(slider.value, 10)); });

  var params = new URLSearchParams({vehicle_id: el.dataset.vehicle});
  if (el.dataset.from) { params.set("from", el.dataset.from); }
  if (el.dataset.to) { params.set("to", el.dataset.to); }

  GuanjiaMap.load(el.dataset.geo).then(function () {
    return fetch(el.dataset.api + "?" + params.toString(), {credentials: "same-origin"});
  }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }).then(function (data) {
    state.positions = data.positions;
    var line = data.positions.map(function (p) { return [p.lon, p.lat]; });
    var option = {
      geo: GuanjiaMap.geo(),
      series: [
        {id: "track", type: "lines", coordinateSystem: "geo", polyline: true,
         data: line.length > 1 ? [{coords: line}] : [], lineStyle: {color: "#c0392b", width: 2}},
        {id: "car", type: "scatter", coordinateSystem: "geo", symbolSize: 12,
         itemStyle: {color: "#1f8a3b"}, data: []}
      ]
    };
    if (line.length) {
      var lons = line.map(function (c) { return c[0]; }), lats = line.map(function (c) { return c[1]; });
      option.geo.boundingCoords = [[Math.min.apply(null, lons) - 0.05, Math.max.apply(null, lats) + 0.05],
                                   [Math.max.apply(null, lons) + 0.05, Math.min.apply(null, lats) - 0.05]];
      option.geo.zoom = 1;
    }
    chart.setOption(option);
    slider.max = Math.max(0, line.length - 1);
    status.textContent = data.count ? ("共 " + data.count + " 个定位点" + (data.truncated ? "（已截断）" : ""))
                                    : "该时段没有定位点";
    if (line.length) { at(0); }
  }).catch(function (e) { status.textContent = "加载失败：" + e.message; });
  window.addEventListener("resize", function () { chart.resize(); });
})();
