// Draws the HTML report's charts, from the JSON embedded in the page (#resil-data) with uPlot (inlined
// before this). Inlined by src/report/html.ts. Plain ES5-ish JS: runs in any browser uPlot supports.
(function () {
  'use strict';
  var source = document.getElementById('resil-data');
  var scenarios = JSON.parse(source ? source.textContent : '[]');
  var COLORS = { latency: '#2563eb', service: '#d97706', requests: '#2563eb', success: '#16a34a', p99: '#dc2626' };
  var charts = [];

  function fmtMs(v) {
    if (v == null || !isFinite(v)) return '-';
    if (v === 0) return '0ms';
    if (v < 1) return v.toFixed(3) + 'ms';
    if (v < 10) return v.toFixed(2) + 'ms';
    if (v < 1000) return v.toFixed(1) + 'ms';
    return (v / 1000).toFixed(2) + 's';
  }
  function pctLabel(x) {
    if (x == null || !(x >= 1)) return '';
    var p = 100 * (1 - 1 / x);
    return 'p' + String(Number(p.toFixed(3)));
  }
  function widthOf(el) {
    var w = el.clientWidth || (el.parentNode && el.parentNode.clientWidth) || 800;
    return Math.max(320, Math.min(w, 1140));
  }
  function shadeWindows(windows) {
    return {
      hooks: {
        drawClear: [function (u) {
          if (!windows.length) return;
          var ctx = u.ctx, left = u.bbox.left, right = u.bbox.left + u.bbox.width;
          ctx.save();
          for (var i = 0; i < windows.length; i++) {
            var w = windows[i];
            var a = Math.max(left, u.valToPos(w.start, 'x', true));
            var b = Math.min(right, u.valToPos(w.end, 'x', true));
            if (!(b > a)) continue;
            ctx.fillStyle = 'rgba(239, 68, 68, 0.14)';
            ctx.fillRect(a, u.bbox.top, b - a, u.bbox.height);
            ctx.fillStyle = 'rgba(185, 28, 28, 0.85)';
            ctx.font = Math.round(11 * (window.devicePixelRatio || 1)) + 'px system-ui, sans-serif';
            ctx.fillText('fault ' + w.label, a + 4, u.bbox.top + 14 * (window.devicePixelRatio || 1));
          }
          ctx.restore();
        }]
      }
    };
  }
  function secondsAxis() {
    return { label: 'seconds since start', values: function (u, splits) { return splits.map(function (v) { return v + 's'; }); } };
  }
  function timeRange(endS) {
    return function (u, min, max) { return [0, Math.max(endS, max || 0, 1)]; };
  }

  function percentileChart(el, s) {
    var d = s.percentiles;
    var series = [
      { label: 'percentile', value: function (u, v) { return v == null ? '-' : pctLabel(v); } },
      { label: d.latencyLabel, stroke: COLORS.latency, width: 2, value: function (u, v) { return fmtMs(v); } }
    ];
    var data = [d.x, d.latency];
    if (d.service) {
      series.push({ label: 'service time', stroke: COLORS.service, width: 2, dash: [6, 4], value: function (u, v) { return fmtMs(v); } });
      data.push(d.service);
    }
    return new uPlot({
      width: widthOf(el), height: 300,
      scales: { x: { time: false, distr: 3, log: 10, range: [2, 10000] }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } },
      axes: [
        { label: 'percentile', splits: function () { return d.ticks; }, filter: function (u, splits) { return splits; }, values: function (u, splits) { return splits.map(pctLabel); }, space: 30 },
        { label: 'latency', size: 70, values: function (u, splits) { return splits.map(fmtMs); } }
      ],
      series: series
    }, data, el);
  }

  function throughputChart(el, s) {
    var d = s.timeline;
    return new uPlot({
      width: widthOf(el), height: 240,
      plugins: [shadeWindows(s.windows)],
      scales: { x: { time: false, range: timeRange(d.endS) }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }, pct: { range: [0, 105] } },
      axes: [
        secondsAxis(),
        { label: 'requests / s', scale: 'y', size: 60 },
        { label: 'success rate', scale: 'pct', side: 1, size: 60, grid: { show: false }, values: function (u, splits) { return splits.map(function (v) { return v + '%'; }); } }
      ],
      series: [
        { label: 'second', value: function (u, v) { return v == null ? '-' : Math.floor(v) + 's'; } },
        { label: 'requests/s', stroke: COLORS.requests, fill: 'rgba(37, 99, 235, 0.08)', width: 2, scale: 'y', points: { show: true } },
        { label: 'success rate', stroke: COLORS.success, width: 2, scale: 'pct', points: { show: true }, value: function (u, v) { return v == null ? '-' : v.toFixed(2) + '%'; } }
      ]
    }, [d.x, d.requests, d.successPct], el);
  }

  function p99Chart(el, s) {
    var d = s.timeline;
    return new uPlot({
      width: widthOf(el), height: 220,
      plugins: [shadeWindows(s.windows)],
      scales: { x: { time: false, range: timeRange(d.endS) }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [secondsAxis(), { label: 'p99', size: 70, values: function (u, splits) { return splits.map(fmtMs); } }],
      series: [
        { label: 'second', value: function (u, v) { return v == null ? '-' : Math.floor(v) + 's'; } },
        { label: 'p99', stroke: COLORS.p99, width: 2, points: { show: true }, value: function (u, v) { return fmtMs(v); } }
      ]
    }, [d.x, d.p99], el);
  }

  var DRAW = { percentiles: percentileChart, throughput: throughputChart, p99: p99Chart };
  var byId = {};
  for (var i = 0; i < scenarios.length; i++) byId[scenarios[i].id] = scenarios[i];
  var holders = document.querySelectorAll('[data-chart]');
  for (var j = 0; j < holders.length; j++) {
    var el = holders[j], s = byId[el.getAttribute('data-scenario')], kind = el.getAttribute('data-chart');
    if (!s || !DRAW[kind]) continue;
    if (kind === 'percentiles' ? !s.percentiles : !s.timeline) continue;
    try {
      charts.push({ el: el, chart: DRAW[kind](el, s) });
    } catch (error) {
      el.textContent = 'chart unavailable: ' + (error && error.message ? error.message : String(error));
      if (window.console) console.error(error);
    }
  }
  var pending = null;
  window.addEventListener('resize', function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      for (var k = 0; k < charts.length; k++) charts[k].chart.setSize({ width: widthOf(charts[k].el), height: charts[k].chart.height });
    }, 100);
  });
  window.resilCharts = charts;
})();
