import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runChaos } from '../../src/session/chaos.js';
import { runLoad } from '../../src/session/load.js';
import { behaviourCharts, renderHtml, timelineData } from '../../src/report/html.js';
import { formatMs } from '../../src/util/format.js';
import type { ResultDocument, ScenarioResult } from '../../src/model/result.js';
import { refusedPort, startServer, type TestServer } from '../helpers/servers.js';
import { behaviourFixture } from '../helpers/behaviour-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = resolve('test-output');
const XSS_NAME = '<img src=x onerror=alert(1)>';
const HOSTILE_WINDOW = '</script><script>alert(2)</script><!--';

let load: ResultDocument;
let chaos: ResultDocument;
let refused: ResultDocument;
let server: TestServer;
/** A chaos result with a behaviour section (two providers, a breaker, Retry-After violations). */
const outage = behaviourFixture();

beforeAll(async () => {
  // A target with some spread in its latency, so the percentile curve has a shape.
  let n = 0;
  server = await startServer((_req, res) => {
    n++;
    const delay = n % 50 === 0 ? 40 : n % 10 === 0 ? 12 : n % 3;
    setTimeout(() => res.end('ok'), delay);
  });
  [load, chaos, refused] = await Promise.all([
    runLoad({
      url: server.url,
      rate: 100,
      duration: '2s',
      concurrency: 10,
      headers: ['Authorization: Bearer s3cret-token', 'x-team: payments'],
      thresholds: ['success_rate>=0.95', 'p99<500ms', 'p(99.9)<0.01ms'],
    }),
    runChaos({
      load: { rate: 100, duration: '2s', concurrency: 5, policy: { retries: 1, backoff: 'fixed:1ms' } },
      proxy: { mock: {}, failureRate: 0.3, faults: 'status:503', windows: ['0s..1s'] },
    }),
    // Two seconds of refused connections, so its throughput chart is a line: one second was a lone point
    // whose anti-aliased marker (50-59 pixels, with its rate counted over the run's few ms) sat at the probe's bound.
    refusedPort().then((port) => runLoad({ url: `http://127.0.0.1:${port}/`, rate: 5, duration: '2s', concurrency: 1 })),
  ]);
}, 20_000);

afterAll(() => server?.close());

function scenarios(): ScenarioResult[] {
  return [
    { name: XSS_NAME, document: load },
    { name: 'chaos: 30% 503 in 0s..1s', document: chaos },
    { name: 'all refused', document: refused },
    { name: 'provider outage', document: outage },
  ];
}

/** The page without the embedded data (the only place URLs may appear). */
function withoutData(html: string): string {
  return html.replace(/<script type="application\/json" id="resil-data">[\s\S]*?<\/script>/, '');
}

describe('renderHtml: one self-contained page', () => {
  test('fetches nothing: no external src/href, no stylesheet links, uPlot inlined', () => {
    const html = renderHtml(scenarios());
    const page = withoutData(html);
    expect(page).not.toMatch(/\b(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page).not.toMatch(/<script[^>]*\bsrc\s*=/i);
    expect(page).not.toMatch(/@import|url\(\s*["']?(?:https?:)?\/\//i);
    expect(html).toContain('uPlot');
    expect(html).toMatch(/\.u-legend/); // uPlot's CSS
    expect(load.target).toMatch(/^http:\/\//);
    // The target URL is shown as text, never as a link.
    expect(page).toContain(load.target);
  });

  test('escapes every text from the documents, including inside the embedded JSON', () => {
    const hostile: ResultDocument = {
      ...chaos,
      faultWindows: [{ window: HOSTILE_WINDOW, startMs: 0, endMs: 1000 }],
      errors: { ...chaos.errors, '<b>bold</b>': 1 },
    };
    const html = renderHtml([
      { name: XSS_NAME, document: load },
      { name: 'hostile', document: hostile },
    ]);
    expect(html).not.toContain(XSS_NAME);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toContain('alert(2)</script>');
    // Exactly the page's own script elements close: the data cannot end its element early.
    expect(html.match(/<\/script/gi)).toHaveLength(html.match(/<script\b/gi)!.length);
    const json = /<script type="application\/json" id="resil-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(json).not.toMatch(/<|>|<!--/);
    const data = JSON.parse(json) as Array<{ windows: Array<{ label: string }> }>;
    expect(data[1]!.windows[0]!.label).toBe(HOSTILE_WINDOW);
  });

  test('shows verdicts, thresholds, redacted settings and the chaos tables', () => {
    const html = renderHtml(scenarios());
    expect(html).toContain('p(99.9)&lt;0.01ms');
    expect(html).toContain('FAIL');
    expect(html).toContain('[redacted]');
    expect(html).not.toContain('s3cret-token');
    expect(html).toContain('Faults: injected vs observed');
    expect(html).toContain('status:503');
    expect(html).toContain('No complete response: no latency to report.');
    expect(html).toContain(String(chaos.seed));
    expect(html).toContain(chaos.startedAt);
  });

  test('streams: ttft and event-gap rows and the stream count, also when every stream was cut (no latency)', () => {
    const figures = { min: 1, mean: 5, p50: 4.5, p90: 8, p95: 9.5, p99: 12.25, p999: 20, max: 31 };
    const streams = { streams: 7, dataEvents: 21, ttftMs: figures, eventGapMs: figures, histograms: { ttft: '', eventGap: '' } };
    const html = renderHtml([{ name: 'cut', document: { ...load, latencyMs: null, streams } }]);
    expect(html).toContain('<td>ttft (streams)</td>');
    expect(html).toContain('<td>event gap (streams)</td>');
    expect(html).toContain('Streams: 7, 21 data events.');
    expect(html).toContain('No complete response: no latency to report.');
    expect(renderHtml([{ name: 'plain', document: load }])).not.toContain('Streams:');
  });

  test('renders a single load scenario and no scenario at all', () => {
    expect(renderHtml([{ name: 'load', document: load }])).toContain('<section class="scenario" id="s0">');
    expect(renderHtml([])).toContain('No results.');
  });
});

describe('the timeline chart data', () => {
  const seconds = (...counts: number[]) => counts.map((requests, t) => ({ t, requests, ok: requests, p99Ms: 1 }));

  test('a last second the run ended inside is drawn as a rate over its length, not as a drop', () => {
    const data = timelineData({ ...load, durationMs: 2400, timeline: seconds(100, 100, 40) })!;
    expect(data.requests).toEqual([100, 100, 100]);
    expect(data.x).toEqual([0.5, 1.5, 2.2]);
    expect(data.partialS).toBe(0.4);
    expect(data.successPct).toEqual([100, 100, 100]);
    const html = renderHtml([{ name: 'load', document: { ...load, durationMs: 2400, timeline: seconds(100, 100, 40) } }]);
    expect(html).toContain('the last point covers the final 0.4s of the run, as a rate per second');
  });

  test('a last sliver under 250 ms is left off; whole seconds and a run shorter than a second are kept', () => {
    const sliver = timelineData({ ...load, durationMs: 2100, timeline: seconds(100, 100, 9) })!;
    expect(sliver.requests).toEqual([100, 100]);
    expect(sliver.partialS).toBeNull();
    expect(sliver.endS).toBe(3);
    const whole = timelineData({ ...load, durationMs: 2000, timeline: seconds(100, 100) })!;
    expect(whole).toMatchObject({ requests: [100, 100], partialS: null });
    const short = timelineData({ ...load, durationMs: 50, timeline: seconds(5) })!;
    expect(short).toMatchObject({ requests: [100], partialS: 0.05, x: [0.025] });
  });
});

describe('the dependency behaviour charts', () => {
  const behaviour = outage.behaviour!;
  const charts = behaviourCharts(behaviour, outage.durationMs);

  test('attempts per request: one bar per count of attempts, from 1 to the most, over every provider', () => {
    expect(charts.attempts!.x).toEqual([1, 2, 3]);
    expect(charts.attempts!.requests).toEqual([1, 2, 3].map((n) => behaviour.overall.attempts[String(n)]));
    expect(charts.attempts!.requests.reduce((a, b) => a + b, 0)).toBe(behaviour.overall.requests);
  });

  test('each retry after a Retry-After is a point: too soon when its delay is under the Retry-After', () => {
    const samples = Object.values(behaviour.providers).flatMap((p) => p.retryAfter.samples);
    const { x, honoured, early, asked } = charts.retryAfter!;
    expect(x).toHaveLength(samples.length);
    expect(x).toEqual([...x].sort((a, b) => a - b));
    expect(early.filter((v) => v !== null)).toHaveLength(behaviour.providers.openai!.retryAfter.violations);
    expect(honoured.filter((v) => v !== null)).toHaveLength(samples.length - behaviour.providers.openai!.retryAfter.violations);
    for (const [i, delay] of early.entries()) if (delay !== null) expect(delay).toBeLessThan(asked[i]!);
  });

  test('calls per second per provider: every call counted once, the breaker visible as a drop inside the window', () => {
    const { x, providers, endS } = charts.calls!;
    expect(providers.map((p) => p.name)).toEqual(['openai', 'anthropic']);
    expect(endS).toBe(behaviour.providers.openai!.series.calls.length / 10);
    expect(endS).toBeGreaterThanOrEqual(12); // retries due after the load stopped come later
    // 500 ms bins as rates: a bin's rate × 0.5 s is its calls.
    expect(x.slice(0, 3)).toEqual([0.25, 0.75, 1.25]);
    for (const p of providers) {
      expect(Math.round(p.calls.reduce((a, b) => a + b, 0) * 0.5)).toBe(behaviour.providers[p.name]!.calls);
    }
    const openai = providers[0]!.calls;
    const mean = (from: number, to: number) => {
      const inside = openai.filter((_, i) => x[i]! >= from && x[i]! < to);
      return inside.reduce((a, b) => a + b, 0) / inside.length;
    };
    // 40 requests/s before the window; the breaker holds openai to its probes (about 1/s) from 4.5 s to 7.5 s.
    expect(mean(1, 4)).toBeGreaterThan(40);
    expect(mean(5, 7)).toBeLessThanOrEqual(2);
    expect(mean(8, 11)).toBeGreaterThan(40);
  });

  test('a long run is summed into at most 1,200 points a provider, each still a rate per second', () => {
    const long = {
      ...behaviour,
      providers: {
        a: {
          ...behaviour.providers.openai!,
          series: { calls: Array(36_000).fill(2), failed: Array(36_000).fill(0), first: Array(36_000).fill(2) },
        },
      },
    };
    const { x, providers } = behaviourCharts(long, 3_600_000).calls!;
    expect(x).toHaveLength(1200);
    expect(x[0]).toBe(1.5);
    expect(new Set(providers[0]!.calls)).toEqual(new Set([20]));
  });

  test('the section is in the page with its three charts; a result without behaviour has none', () => {
    const html = renderHtml([{ name: 'provider outage', document: outage }]);
    expect(html).toContain('<h3>Dependency behaviour</h3>');
    for (const kind of ['attempts', 'retryAfter', 'calls']) expect(html).toContain(`data-chart="${kind}" data-scenario="s0"`);
    expect(renderHtml([{ name: 'chaos', document: { ...chaos, behaviour: undefined } }])).not.toContain('Dependency behaviour');
  });
});

interface ChartProbe {
  kind: string | null;
  scenario: string | null;
  /** The canvas exists and differs from a blank one of its size. */
  canvas: boolean;
  /** Pixels drawn at all, in a series colour, in the fault-band colour. */
  painted: number;
  seriesPixels: number;
  bandPixels: number;
}

/** Runs in the page (a string: the test's TypeScript has no DOM types): each chart's canvas, sampled. */
const CHART_PROBE = `(() => {
  const near = (r, g, b, [R, G, B]) => Math.abs(r - R) <= 10 && Math.abs(g - G) <= 10 && Math.abs(b - B) <= 10;
  const series = [
    [0x25, 0x63, 0xeb],
    [0xd9, 0x77, 0x06],
    [0x16, 0xa3, 0x4a],
    [0xdc, 0x26, 0x26],
  ];
  // The fault band: rgba(239, 68, 68, 0.14) on the (transparent) canvas.
  const band = [239, 68, 68];
  return Array.from(document.querySelectorAll('[data-chart]')).map((holder) => {
    const canvas = holder.querySelector('canvas');
    if (!canvas) return { kind: holder.getAttribute('data-chart'), scenario: holder.getAttribute('data-scenario'), canvas: false, painted: 0, seriesPixels: 0, bandPixels: 0 };
    const { width, height } = canvas;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    let painted = 0;
    let seriesPixels = 0;
    let bandPixels = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] === 0) continue;
      painted++;
      const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
      if (series.some((c) => near(r, g, b, c))) seriesPixels++;
      if (near(r, g, b, band) && pixels[i + 3] > 20 && pixels[i + 3] < 60) bandPixels++;
    }
    const blank = document.createElement('canvas');
    blank.width = width;
    blank.height = height;
    return {
      kind: holder.getAttribute('data-chart'),
      scenario: holder.getAttribute('data-scenario'),
      canvas: width > 0 && height > 0 && canvas.toDataURL() !== blank.toDataURL(),
      painted,
      seriesPixels,
      bandPixels,
    };
  });
})()`;

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`html.test.ts: SKIPPING the browser test: ${CHROMIUM} not found (install Debian's chromium to run it)`);
}
const browserTest = hasChromium ? test : test.skip;

describe('renderHtml in a real browser', () => {
  browserTest('draws every chart without a script error, and a screenshot is saved', async () => {
    const { chromium } = await import('playwright-core');
    mkdirSync(OUTPUT, { recursive: true });
    const file = join(OUTPUT, 'html-report.html');
    writeFileSync(file, renderHtml(scenarios()));
    const profile = mkdtempSync(join(tmpdir(), 'resil-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      offline: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const problems: string[] = [];
    const requests: string[] = [];
    let dialogs = 0;
    try {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) requests.push(request.url());
      });
      page.on('dialog', (dialog) => {
        dialogs++;
        void dialog.dismiss();
      });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      await page.waitForTimeout(200);

      const charts = await page.evaluate<ChartProbe[]>(CHART_PROBE);
      const images = await page.evaluate<number>("document.querySelectorAll('img').length");
      // The chart script writes durations with the reports' own formatMs (what the tables print).
      const written = await page.evaluate<string[]>('[0.85, 1520, 125000, 119700].map(formatMs)');
      await page.screenshot({ path: join(OUTPUT, 'html-report.png'), fullPage: true });

      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      expect(dialogs).toBe(0);
      expect(images).toBe(0);
      expect(written).toEqual([0.85, 1520, 125000, 119700].map(formatMs));
      // Load: percentiles, throughput, p99; chaos: the same; all refused: throughput only.
      expect(charts.map((c) => `${c.scenario}:${c.kind}`)).toEqual([
        's0:percentiles',
        's0:throughput',
        's0:p99',
        's1:percentiles',
        's1:throughput',
        's1:p99',
        // The chaos run (policy mode, retries on 503s the proxy sends with Retry-After) has a behaviour section.
        's1:attempts',
        ...(chaos.behaviour!.providers.dependency!.retryAfter.samples.length > 0 ? ['s1:retryAfter'] : []),
        's1:calls',
        's2:throughput',
        's3:percentiles',
        's3:throughput',
        's3:p99',
        's3:attempts',
        's3:retryAfter',
        's3:calls',
      ]);
      for (const chart of charts) {
        expect({ chart: `${chart.scenario}:${chart.kind}`, canvas: chart.canvas }).toEqual({
          chart: `${chart.scenario}:${chart.kind}`,
          canvas: true,
        });
        expect(chart.painted).toBeGreaterThan(1000);
        // Named, so a failure says which chart drew too little of its series (seen once: 50, in a full run at load 11).
        const name = `${chart.scenario}:${chart.kind}`;
        expect([name, chart.seriesPixels > 50 ? 'drawn' : `only ${chart.seriesPixels} series pixels`]).toEqual([name, 'drawn']);
      }
      // The chaos run's fault window is shaded on its timelines; the load run has none.
      expect(charts.find((c) => c.scenario === 's1' && c.kind === 'throughput')!.bandPixels).toBeGreaterThan(1000);
      expect(charts.find((c) => c.scenario === 's0' && c.kind === 'throughput')!.bandPixels).toBeLessThan(50);
      // The provider outage's window is shaded behind its calls per provider.
      expect(charts.find((c) => c.scenario === 's3' && c.kind === 'calls')!.bandPixels).toBeGreaterThan(1000);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
