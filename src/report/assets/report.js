// Draws the HTML report's charts with uPlot (inlined before this) from the JSON embedded in the page
// (#resil-data). Inlined by src/report/html.ts as a classic script: no modules, no build step; the syntax
// is no newer than uPlot's own, so it runs in any browser uPlot supports.
(() => {
  'use strict';
  const source = document.getElementById('resil-data');
  const scenarios = JSON.parse(source ? source.textContent : '[]');
  const COLORS = {
    latency: '#2563eb',
    service: '#d97706',
    requests: '#2563eb',
    success: '#16a34a',
    p99: '#dc2626',
    attempts: '#2563eb',
    honoured: '#16a34a',
    early: '#dc2626',
    asked: '#6b7280',
  };
  // One colour per provider in the calls chart, in the order the result lists them.
  const PROVIDER_COLORS = ['#2563eb', '#d97706', '#16a34a', '#7c3aed', '#0891b2', '#db2777'];
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
  /** A y scale from 0 to the data's top plus `headroom` (0.1: 10% above), or 0..1 with nothing to show. */
  function fromZero(headroom) {
    return { range: (_u, _min, max) => [0, max > 0 ? max * (1 + headroom) : 1] };
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
          y: fromZero(0.08),
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
          y: fromZero(0.1),
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
        scales: { x: { time: false, range: timeRange(d.endS) }, y: fromZero(0.1) },
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

  // Each bar's count written above it: a bar of 3 requests beside one of 3,000 is still read.
  function barLabels(counts) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const dpr = window.devicePixelRatio || 1;
            ctx.save();
            ctx.fillStyle = '#1f2328';
            ctx.textAlign = 'center';
            ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
            for (let i = 0; i < counts.length; i++) {
              const x = u.valToPos(u.data[0][i], 'x', true);
              const y = u.valToPos(counts[i], 'y', true);
              ctx.fillText(counts[i].toLocaleString('en-US'), x, y - 4 * dpr);
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  function attemptsChart(el, s) {
    const d = s.behaviour.attempts;
    return new uPlot(
      {
        width: widthOf(el),
        height: 220,
        plugins: [barLabels(d.requests)],
        scales: {
          x: { time: false, range: [0.5, d.x[d.x.length - 1] + 0.5] },
          y: fromZero(0.15),
        },
        axes: [
          { label: 'attempts', splits: () => d.x, values: (_u, splits) => splits.map((v) => String(v)) },
          { label: 'requests', size: 60 },
        ],
        series: [
          { label: 'attempts', value: (_u, v) => (v == null ? '-' : String(v)) },
          {
            label: 'requests',
            stroke: COLORS.attempts,
            fill: 'rgba(37, 99, 235, 0.35)',
            width: 1,
            paths: uPlot.paths.bars({ size: [0.6, 80] }),
            points: { show: false },
          },
        ],
      },
      [d.x, d.requests],
      el,
    );
  }

  function retryAfterChart(el, s) {
    const d = s.behaviour.retryAfter;
    const dots = (stroke) => ({ stroke, width: 0, paths: () => null, points: { show: true, size: 7, fill: stroke, stroke } });
    return new uPlot(
      {
        width: widthOf(el),
        height: 240,
        plugins: [shadeWindows(s.windows)],
        scales: {
          x: { time: false, range: timeRange(s.timeline ? s.timeline.endS : d.x[d.x.length - 1]) },
          y: fromZero(0.1),
        },
        axes: [secondsAxis(), { label: 'delay before the retry', size: 70, values: (_u, splits) => splits.map(fmtMs) }],
        series: [
          { label: 'retry at', value: (_u, v) => (v == null ? '-' : `${v.toFixed(2)}s`) },
          { label: 'waited long enough', ...dots(COLORS.honoured), value: (_u, v) => fmtMs(v) },
          { label: 'sooner than Retry-After', ...dots(COLORS.early), value: (_u, v) => fmtMs(v) },
          { label: 'Retry-After', stroke: COLORS.asked, width: 1, dash: [4, 4], points: { show: false }, value: (_u, v) => fmtMs(v) },
        ],
      },
      [d.x, d.honoured, d.early, d.asked],
      el,
    );
  }

  function callsChart(el, s) {
    const d = s.behaviour.calls;
    const series = [{ label: 'at', value: (_u, v) => (v == null ? '-' : `${v.toFixed(1)}s`) }];
    const data = [d.x];
    for (let i = 0; i < d.providers.length; i++) {
      const p = d.providers[i];
      const color = PROVIDER_COLORS[i % PROVIDER_COLORS.length];
      series.push({ label: `${p.name} calls/s`, stroke: color, width: 2, points: { show: false } });
      series.push({ label: `${p.name} failed/s`, stroke: color, width: 1, dash: [3, 3], points: { show: false } });
      data.push(p.calls, p.failed);
    }
    return new uPlot(
      {
        width: widthOf(el),
        height: 260,
        plugins: [shadeWindows(s.windows)],
        scales: {
          x: { time: false, range: timeRange(d.endS) },
          y: fromZero(0.1),
        },
        axes: [secondsAxis(), { label: 'calls / s', size: 60 }],
        series,
      },
      data,
      el,
    );
  }

  const DRAW = {
    percentiles: percentileChart,
    throughput: throughputChart,
    p99: p99Chart,
    attempts: attemptsChart,
    retryAfter: retryAfterChart,
    calls: callsChart,
  };
  // Whether a scenario has the data a chart draws.
  const HAS = {
    percentiles: (s) => s.percentiles,
    throughput: (s) => s.timeline,
    p99: (s) => s.timeline,
    attempts: (s) => s.behaviour?.attempts,
    retryAfter: (s) => s.behaviour?.retryAfter,
    calls: (s) => s.behaviour?.calls,
  };
  const byId = {};
  for (let i = 0; i < scenarios.length; i++) byId[scenarios[i].id] = scenarios[i];
  const holders = document.querySelectorAll('[data-chart]');
  for (let j = 0; j < holders.length; j++) {
    const el = holders[j];
    const s = byId[el.getAttribute('data-scenario')];
    const kind = el.getAttribute('data-chart');
    if (!s || !DRAW[kind]) continue;
    if (!HAS[kind](s)) continue;
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
