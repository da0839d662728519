// Draws the HTML report's charts with uPlot (inlined before this) from the JSON embedded in the page
// (#resil-data). Inlined by src/report/html.ts as a classic script: no modules, no build step; the syntax
// is no newer than uPlot's own, so it runs in any browser uPlot supports.
(() => {
  'use strict';
  const source = document.getElementById('resil-data');
  const scenarios = JSON.parse(source ? source.textContent : '[]');
  const COLORS = { latency: '#2563eb', service: '#d97706', requests: '#2563eb', success: '#16a34a', p99: '#dc2626' };
  const charts = [];

  // formatMs is the reports' own (src/util/format.ts), which renderHtml puts before this script, so
  // the chart's axes and legends write a duration exactly as the tables beside them do.
  const fmtMs = (v) => formatMs(v == null ? Number.NaN : v);
  function pctLabel(x) {
    if (x == null || !(x >= 1)) return '';
    const p = 100 * (1 - 1 / x);
    return `p${String(Number(p.toFixed(3)))}`;
  }
  function widthOf(el) {
    const w = el.clientWidth || el.parentNode?.clientWidth || 800;
    return Math.max(320, Math.min(w, 1140));
  }
  function shadeWindows(windows) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            if (!windows.length) return;
            const ctx = u.ctx;
            const left = u.bbox.left;
            const right = u.bbox.left + u.bbox.width;
            ctx.save();
            for (let i = 0; i < windows.length; i++) {
              const w = windows[i];
              const a = Math.max(left, u.valToPos(w.start, 'x', true));
              const b = Math.min(right, u.valToPos(w.end, 'x', true));
              if (!(b > a)) continue;
              ctx.fillStyle = 'rgba(239, 68, 68, 0.14)';
              ctx.fillRect(a, u.bbox.top, b - a, u.bbox.height);
              ctx.fillStyle = 'rgba(185, 28, 28, 0.85)';
              ctx.font = `${Math.round(11 * (window.devicePixelRatio || 1))}px system-ui, sans-serif`;
              ctx.fillText(`fault ${w.label}`, a + 4, u.bbox.top + 14 * (window.devicePixelRatio || 1));
            }
            ctx.restore();
          },
        ],
      },
    };
  }
  function secondsAxis() {
    return { label: 'seconds since start', values: (_u, splits) => splits.map((v) => `${v}s`) };
  }
  function timeRange(endS) {
    return (_u, _min, max) => [0, Math.max(endS, max || 0, 1)];
  }

  function percentileChart(el, s) {
    const d = s.percentiles;
    const series = [
      { label: 'percentile', value: (_u, v) => (v == null ? '-' : pctLabel(v)) },
      { label: d.latencyLabel, stroke: COLORS.latency, width: 2, value: (_u, v) => fmtMs(v) },
    ];
    const data = [d.x, d.latency];
    if (d.service) {
      series.push({ label: 'service time', stroke: COLORS.service, width: 2, dash: [6, 4], value: (_u, v) => fmtMs(v) });
      data.push(d.service);
    }
    return new uPlot(
      {
        width: widthOf(el),
        height: 300,
        scales: {
          x: { time: false, distr: 3, log: 10, range: [2, 10000] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
        },
        axes: [
          {
            label: 'percentile',
            splits: () => d.ticks,
            filter: (_u, splits) => splits,
            values: (_u, splits) => splits.map(pctLabel),
            space: 30,
          },
          { label: 'latency', size: 70, values: (_u, splits) => splits.map(fmtMs) },
        ],
        series,
      },
      data,
      el,
    );
  }

  function throughputChart(el, s) {
    const d = s.timeline;
    return new uPlot(
      {
        width: widthOf(el),
        height: 240,
        plugins: [shadeWindows(s.windows)],
        scales: {
          x: { time: false, range: timeRange(d.endS) },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
          pct: { range: [0, 105] },
        },
        axes: [
          secondsAxis(),
          { label: 'requests / s', scale: 'y', size: 60 },
          {
            label: 'success rate',
            scale: 'pct',
            side: 1,
            size: 60,
            grid: { show: false },
            values: (_u, splits) => splits.map((v) => `${v}%`),
          },
        ],
        series: [
          { label: 'second', value: (_u, v) => (v == null ? '-' : `${Math.floor(v)}s`) },
          { label: 'requests/s', stroke: COLORS.requests, fill: 'rgba(37, 99, 235, 0.08)', width: 2, scale: 'y', points: { show: true } },
          {
            label: 'success rate',
            stroke: COLORS.success,
            width: 2,
            scale: 'pct',
            points: { show: true },
            value: (_u, v) => (v == null ? '-' : `${v.toFixed(2)}%`),
          },
        ],
      },
      [d.x, d.requests, d.successPct],
      el,
    );
  }

  function p99Chart(el, s) {
    const d = s.timeline;
    return new uPlot(
      {
        width: widthOf(el),
        height: 220,
        plugins: [shadeWindows(s.windows)],
        scales: { x: { time: false, range: timeRange(d.endS) }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [secondsAxis(), { label: 'p99', size: 70, values: (_u, splits) => splits.map(fmtMs) }],
        series: [
          { label: 'second', value: (_u, v) => (v == null ? '-' : `${Math.floor(v)}s`) },
          { label: 'p99', stroke: COLORS.p99, width: 2, points: { show: true }, value: (_u, v) => fmtMs(v) },
        ],
      },
      [d.x, d.p99],
      el,
    );
  }

  const DRAW = { percentiles: percentileChart, throughput: throughputChart, p99: p99Chart };
  const byId = {};
  for (let i = 0; i < scenarios.length; i++) byId[scenarios[i].id] = scenarios[i];
  const holders = document.querySelectorAll('[data-chart]');
  for (let j = 0; j < holders.length; j++) {
    const el = holders[j];
    const s = byId[el.getAttribute('data-scenario')];
    const kind = el.getAttribute('data-chart');
    if (!s || !DRAW[kind]) continue;
    if (kind === 'percentiles' ? !s.percentiles : !s.timeline) continue;
    try {
      charts.push({ el, chart: DRAW[kind](el, s) });
    } catch (error) {
      el.textContent = `chart unavailable: ${error?.message ? error.message : String(error)}`;
      if (window.console) console.error(error);
    }
  }
  let pending = null;
  window.addEventListener('resize', () => {
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      for (let k = 0; k < charts.length; k++) charts[k].chart.setSize({ width: widthOf(charts[k].el), height: charts[k].chart.height });
    }, 100);
  });
  window.resilCharts = charts;
})();
