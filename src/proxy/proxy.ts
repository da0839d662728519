import { createServer, type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Pool } from 'undici';
import { ProblemList, UsageError } from '../errors.js';
import type { UpstreamAnswer } from '../faults/fault.js';
import { parseTargetUrl } from '../util/url.js';
import { redactUrl } from '../util/redact.js';
import { flagWording, type OptionWording } from '../util/option-table.js';
import type { Correlation } from '../behaviour/call.js';
import { bodyKey, callHeaders } from '../behaviour/key.js';
import type { Fault } from '../faults/fault.js';
import type { ChaosProxy } from './chaos-proxy.js';
import { buildFaultPlan, MOCK_OPTIONS, parseCorrelation, type FaultPlan, type FaultSettings, type FaultWindow } from './config.js';
import type { MixFault } from '../faults/registry.js';
import type { StreamDirection } from '../faults/toxics/toxic.js';
import { checkTcpProxyOptions, startTcpProxy } from './tcp/proxy.js';
import { tcpFaultMix } from './tcp/faults.js';
import type { TcpProxyOptions } from './tcp/tcp-proxy.js';
import { FaultDecider, type GuardState, type WholeWindowListener } from './decide.js';
import { dispatchOptions, fetchWhole, hasRequestBody, readRequestBody, StreamingForward } from './forward.js';
import { HttpCall, type CallHost } from './http-call.js';
import { listenOn, parseListen, reportListenFailure } from './listen.js';
import { buildMockPlan, presetAnswer, type MockPlan, type MockSettings } from './mock.js';
import type { ProviderApi } from '../faults/fault.js';
import { PRESETS } from './providers/presets.js';
import { isProviderName, PROVIDER_NAMES, type ProviderName } from './providers/provider.js';
import { HarWriter } from '../har/writer.js';
import { readHar } from '../har/reader.js';
import { ReplayMatcher } from '../har/matcher.js';
import { recordingTap } from './record.js';
import { emptyTrafficCounts, joinStats, type ProxyStats, type TrafficCounts } from './stats.js';
import {
  type CallObserver,
  CallWatch,
  type CallWatcher,
  type CountedSocket,
  observedCall,
  ObservedResponse,
  onObservedClose,
} from './observe.js';
import { answerOf, answerUnmatched, parseReplayTiming, playAnswer, type ReplayTiming, type TimedAnswer } from './replay.js';

/** Bodies up to this size (bytes) are read to key a call that has no id header; larger ones stream through unread. */
const MAX_KEYED_BODY = 1024 * 1024;

export interface ProxyOptions extends FaultSettings {
  /** The real dependency to forward to (http or https). */
  upstream?: string;
  /** Answer healthy calls from a built-in mock instead of an upstream. */
  mock?: MockSettings;
  /** 'HOST:PORT' (default 127.0.0.1 on an ephemeral port). */
  listen?: string;
  /** Name of the dependency, for reports ('openai'). */
  name?: string;
  /** Record every forwarded exchange to this HAR 1.2 file (needs `upstream`). */
  record?: string;
  /** Answer from the recordings in this HAR file; unmatched calls go to `upstream` if given, else get 501. */
  replay?: string;
  /** 'recorded' (default), 'none' or 'scale:FACTOR'. */
  replayTiming?: string;
  /** JSON body fields ignored when matching recordings ('timestamp', 'request_id'). */
  replayIgnore?: readonly string[];
  /** Further header names recorded as [redacted]. */
  redact?: readonly string[];
  /** How attempts of one request are told apart: 'auto' (default), 'header:NAME', 'body' or 'off'. */
  correlate?: string;
  /** A tcp:// upstream: the direction its faults act on (default downstream). */
  stream?: StreamDirection;
  /** The LLM provider whose wire format the upstream or recording speaks: injected errors take its shape (a preset mock implies it). */
  api?: ProviderName;
}

/**
 * Starts the chaos proxy: an HTTP/1.1 server that forwards each call to its one upstream (undici
 * Pool, keep-alive) or answers from a mock, and injects the faults its FaultDecider picks (decide.ts:
 * the probability, windows and targeting, applied once for every fault type).
 */
/** What an observing proxy is given: where its calls go, and the run id of the requests resil sends (request-ids.ts). */
export interface Observing {
  observer: CallObserver;
  runId?: string;
}

export async function startChaosProxy(options: ProxyOptions, observing?: Observing): Promise<ChaosProxy> {
  if (isTcpUpstream(options.upstream)) return startTcpProxy(tcpOptions(options));
  const checked = checkProxyOptions(options);
  const recorder =
    options.record === undefined
      ? undefined
      : HarWriter.open(options.record, { redact: new Set((options.redact ?? []).map((n) => n.toLowerCase())) });
  return new ProxyServer(
    options.name ?? 'proxy',
    checked.plan,
    checked.listen,
    checked.upstream,
    checked.mock,
    checked.replay,
    checked.api,
    recorder,
    observing === undefined ? undefined : { ...observing, correlation: checked.correlation },
  ).start();
}

/** A tcp:// upstream: the proxy is a TCP proxy (src/proxy/tcp). */
export function isTcpUpstream(upstream: string | undefined): upstream is string {
  return upstream !== undefined && /^tcp:\/\//i.test(upstream.trim());
}

/**
 * Validates the options of either kind of proxy (HTTP, or TCP for a tcp:// upstream) without starting
 * it; throws one UsageError listing every problem. The fault plan, for its windows and Retry-After.
 */
export function validateProxyOptions(options: ProxyOptions): FaultPlan<MixFault> {
  return isTcpUpstream(options.upstream) ? checkTcpProxyOptions(tcpOptions(options)).plan : checkProxyOptions(options).plan;
}

/**
 * The fault plan of `settings` on the proxy `provider` describes: a tcp:// upstream reads its mix as
 * TCP faults on its stream, any other as HTTP faults. Throws UsageError worded by `word`.
 */
export function faultPlanOf(
  provider: Pick<ProxyOptions, 'upstream' | 'stream'>,
  settings: FaultSettings,
  word?: OptionWording,
): FaultPlan<MixFault> {
  if (!isTcpUpstream(provider.upstream)) return buildFaultPlan(settings, word);
  return buildFaultPlan(settings, word ?? flagWording, tcpFaultMix(provider.stream ?? 'downstream'));
}

/** A tcp:// upstream's options; what only an HTTP proxy does (mock, record, replay, correlation) is refused. */
function tcpOptions(options: ProxyOptions): TcpProxyOptions {
  const problems = new ProblemList();
  const httpOnly = [
    ['mock', '--mock'],
    ['record', '--record'],
    ['replay', '--replay'],
    ['api', '--api'],
  ] as const;
  for (const [key, flag] of httpOnly) {
    if (options[key] !== undefined) problems.add(`${flag} needs an HTTP upstream: '${redactUrl(options.upstream!)}' is a TCP one`);
  }
  if (options.correlate !== undefined && options.correlate !== 'auto' && options.correlate !== 'off') {
    problems.add('--correlate needs an HTTP upstream: a TCP proxy sees connections, not calls');
  }
  problems.throwIfAny();
  const {
    mock: _mock,
    record: _record,
    replay: _replay,
    replayTiming: _timing,
    replayIgnore: _ignore,
    redact: _redact,
    correlate: _c,
    api: _api,
    ...rest
  } = options;
  return { ...rest, upstream: options.upstream! };
}

/** Validates an HTTP proxy's options without starting anything; throws one UsageError listing every problem. */
export function checkProxyOptions(options: ProxyOptions): {
  plan: FaultPlan;
  listen: { host: string; port: number };
  upstream: URL | undefined;
  mock: MockPlan | undefined;
  replay: { matcher: ReplayMatcher; timing: ReplayTiming } | undefined;
  correlation: Correlation;
  api: ProviderApi | undefined;
} {
  const problems = new ProblemList();
  if (options.stream !== undefined) problems.add('--stream needs a tcp:// upstream: an HTTP proxy faults whole calls');
  if (options.mock !== undefined && (options.upstream !== undefined || options.replay !== undefined)) {
    problems.add('give --upstream (and/or --replay) or --mock alone: --mock answers every call itself');
  }
  if (options.upstream === undefined && options.mock === undefined && options.replay === undefined) {
    problems.add('give the proxy an --upstream URL, --mock, or --replay FILE.har');
  }
  if (options.record !== undefined && options.upstream === undefined) problems.add('--record needs an --upstream to record');
  if (options.record !== undefined && options.replay !== undefined) problems.add('give --record or --replay, not both');
  let replay: { matcher: ReplayMatcher; timing: ReplayTiming } | undefined;
  if (options.replay !== undefined) {
    const timing = problems.attempt(() => parseReplayTiming(options.replayTiming));
    const entries = problems.attempt(() => readHar(options.replay!));
    if (timing && entries) replay = { matcher: new ReplayMatcher(entries, { ignoreJsonFields: options.replayIgnore ?? [] }), timing };
  }
  let upstream: URL | undefined;
  if (options.upstream !== undefined) {
    try {
      upstream = parseTargetUrl(options.upstream);
    } catch (error) {
      problems.add(`--upstream: ${(error as Error).message}`);
    }
  }
  const mock = options.mock ? buildMockPlan(options.mock, (problem) => problems.add(flagWording(MOCK_OPTIONS, problem))) : undefined;
  let listen: { host: string; port: number } | undefined;
  try {
    listen = parseListen(options.listen);
  } catch (error) {
    problems.add((error as Error).message);
  }
  const correlation = problems.attempt(() => parseCorrelation(options.correlate ?? 'auto'));
  const preset = options.mock?.preset;
  if (options.api !== undefined && !isProviderName(options.api)) {
    problems.add(`--api '${options.api}': expected ${PROVIDER_NAMES.join(' or ')}`);
  } else if (options.api !== undefined && preset !== undefined && options.api !== preset) {
    problems.add(`--api ${options.api} contradicts --mock ${preset}: the mock speaks ${preset}'s wire format`);
  }
  const apiName = options.api ?? (preset !== undefined && isProviderName(preset) ? preset : undefined);
  let plan: FaultPlan | undefined;
  try {
    plan = buildFaultPlan(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.add(error.message);
  }
  problems.throwIfAny();
  return { plan: plan!, listen: listen!, upstream, mock, replay, correlation: correlation!, api: apiName && PRESETS[apiName] };
}

class ProxyServer implements ChaosProxy, CallWatcher {
  private readonly server: Server;
  private readonly pool: Pool | undefined;
  private readonly basePath: string;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly decider: FaultDecider;
  private traffic: TrafficCounts = emptyTrafficCounts();
  private listening = false;
  private closed = false;
  port = 0;
  /** Where observed calls go (the session's BehaviourObserver); undefined when the proxy observes nothing. */
  private readonly observer: CallObserver | undefined;
  /** Where calls go, for the start line and reports: 'http://…', 'mock (openai)', 'replay (api anthropic)'. */
  readonly target: string;
  private readonly runId: string | undefined;
  /** Undefined when calls are not observed (no observer, or correlation 'off'). */
  readonly correlation: Correlation | undefined;
  /** Observed calls not over yet (reported as open at the end of a run): a list through CallWatch.next. */
  private openHead: CallWatch | null = null;
  /** What a faulted call's operations use of this proxy (HttpCall). */
  private readonly callHost: CallHost = {
    random: () => this.decider.random(),
    later: (ms, fn) => this.later(ms, fn),
    passThrough: (request, response) => this.passThrough(request, response),
    fetchUpstream: (request, response) => this.fetchUpstream(request, response),
    retryAfterSeconds: () => this.decider.plan.retryAfterSeconds,
    api: () => this.api,
    notApplicable: (name, epoch, response) => {
      this.decider.notApplicable(name, epoch);
      // An observed call is then no faulted one either.
      const watch = this.observer === undefined ? undefined : (response as ObservedResponse).watch;
      if (watch) watch.fault = undefined;
    },
  };
  /** What the decider does to the listener for `down`. */
  private readonly listener: WholeWindowListener = {
    goDown: () => this.goDown(),
    comeUp: () => void this.ensureListening().catch(reportListenFailure),
  };

  constructor(
    readonly name: string,
    plan: FaultPlan,
    private readonly listen: { host: string; port: number },
    upstream: URL | undefined,
    private readonly mock: MockPlan | undefined,
    private readonly replay: { matcher: ReplayMatcher; timing: ReplayTiming } | undefined,
    private readonly api: ProviderApi | undefined,
    private readonly recorder: HarWriter | undefined,
    observing: (Observing & { correlation: Correlation }) | undefined,
  ) {
    this.decider = new FaultDecider(plan);
    this.observer = observing?.observer;
    this.runId = observing?.runId;
    this.correlation = observing?.correlation.mode === 'off' ? undefined : observing?.correlation;
    this.pool = upstream ? new Pool(upstream.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 }) : undefined;
    this.basePath = upstream ? upstream.pathname.replace(/\/$/, '') : '';
    this.target = replay
      ? `replay${upstream ? ` (else ${redactUrl(upstream.toString())})` : ''}`
      : upstream
        ? redactUrl(upstream.toString())
        : mock?.preset
          ? `mock (${mock.preset.provider.name})`
          : 'mock';
    // An upstream or recording whose wire format was named (--api): injected errors take its shape.
    if (api !== undefined && !mock?.preset) this.target += ` (api ${api.name})`;
    // An observing proxy's responses carry what it observes of their call (observe.ts).
    this.server = createServer(
      { keepAliveTimeout: 30_000, ServerResponse: this.observer ? ObservedResponse : ServerResponse },
      (request, response) => this.handle(request, response),
    );
    const counted = this.observer !== undefined;
    this.server.on('connection', (socket: Socket) => {
      if (counted) (socket as CountedSocket).callsCarried = 0;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_error, socket: Socket) => socket.destroy());
  }

  get host(): string {
    return this.listen.host;
  }
  get url(): string {
    const host = this.listen.host.includes(':') ? `[${this.listen.host}]` : this.listen.host;
    return `http://${host}:${this.port}`;
  }
  get seed(): number {
    return this.decider.plan.seed;
  }

  async start(): Promise<this> {
    await this.openListener(this.listen.port);
    this.startSchedule();
    return this;
  }

  stats(): ProxyStats {
    return joinStats(this.traffic, this.decider.faultCounts());
  }

  resetStats(): void {
    this.traffic = emptyTrafficCounts();
    this.decider.resetCounts();
  }

  faultSettings(): FaultSettings {
    const plan = this.decider.plan;
    return { ...plan.settings, seed: plan.seed };
  }

  setFaults(settings: FaultSettings): void {
    this.decider.setPlan(buildFaultPlan(settings));
    this.startSchedule();
  }

  startSchedule(): void {
    this.decider.startClock(this.listener);
  }

  halt(cause: string): boolean {
    return this.decider.halt(cause);
  }

  resume(): boolean {
    return this.decider.resume();
  }

  guard(): GuardState {
    return this.decider.guard();
  }

  faultWindows(): { windows: FaultWindow[]; down: boolean } {
    const plan = this.decider.plan;
    return { windows: [...plan.windows], down: plan.down };
  }

  reportOpenCalls(): void {
    const observer = this.observer;
    if (!observer) return;
    const now = observer.now();
    // The list holds the newest call first: report in arrival order, so attempts of one request keep theirs.
    const open: CallWatch[] = [];
    for (let watch = this.openHead; watch !== null; watch = watch.next) open.push(watch);
    this.openHead = null;
    for (const watch of open.reverse()) {
      watch.previous = watch.next = null;
      watch.reported = true;
      // An answer finished whose close is still to come (next tick) is no open call.
      observer.record(observedCall(watch, this.name, now, !watch.response.writableFinished));
    }
  }

  async close(): Promise<void> {
    this.reportOpenCalls();
    this.closed = true;
    this.decider.stopClock();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    if (this.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.listening = false;
    await this.pool?.destroy();
    this.recorder?.close();
  }

  // ---- per call ----

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const traffic = this.traffic;
    traffic.calls++;
    const target = request.url!;
    if (target.charCodeAt(0) !== 47 /* '/' */) {
      // Absolute-form (http://other-host/...) or authority-form: only the configured upstream is served.
      traffic.rejected++;
      request.resume();
      response
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('resil proxy: only origin-form request targets (/path) are forwarded\n');
      return;
    }
    const fault = this.decider.decide({ method: request.method!, path: target, headers: request.headers });
    if (this.correlation !== undefined && this.watch(request, response as ObservedResponse, fault)) return;
    this.serve(request, response, fault);
  }

  private serve(request: IncomingMessage, response: ServerResponse, fault: Fault | undefined): void {
    if (fault) fault.inject(new HttpCall(this.callHost, request, response, fault.name, this.decider.countsEpoch));
    else this.passThrough(request, response);
  }

  /**
   * Starts observing a call: when it arrived, on which connection, its correlation key. A call keyed
   * by its body is served once the body is read (true: the caller must not serve it); the fault was
   * decided on arrival all the same, so the decisions are those of an unobserved run.
   */
  private watch(request: IncomingMessage, response: ObservedResponse, fault: Fault | undefined): boolean {
    const socket = request.socket as CountedSocket;
    const raw = request.rawHeaders;
    const watch = new CallWatch(this, response, this.observer!.now(), fault?.name);
    response.watch = watch;
    watch.reused = socket.callsCarried++ > 0;
    response.on('close', onObservedClose);
    watch.next = this.openHead;
    if (this.openHead !== null) this.openHead.previous = watch;
    this.openHead = watch;
    const { keyed, idempotencyKey, runRequest } = callHeaders(raw, this.correlation!, this.runId);
    watch.idempotencyKey = idempotencyKey;
    watch.runRequest = runRequest;
    if (keyed !== undefined) {
      watch.key = keyed.key;
      watch.keySource = keyed.source;
      return false;
    }
    const method = request.method!;
    const target = request.url!;
    // Until the body is in (a client that leaves mid-body is recorded with this).
    watch.key = bodyKey(method, target, undefined);
    // A body announced larger than MAX_KEYED_BODY streams through unread, keyed by method and path alone.
    if (!hasRequestBody(request) || Number(request.headers['content-length']) > MAX_KEYED_BODY) return false;
    readRequestBody(request).then(
      (body) => {
        watch.requestBody = body;
        watch.key = bodyKey(method, target, body);
        this.serve(request, response, fault);
      },
      () => {}, // the client left before its body was in: its close is recorded
    );
    return true;
  }

  /** An observed exchange is over: handed to the observer (once). */
  ended(watch: CallWatch): void {
    if (watch.reported) return;
    watch.reported = true;
    if (watch.previous !== null) watch.previous.next = watch.next;
    else this.openHead = watch.next;
    if (watch.next !== null) watch.next.previous = watch.previous;
    const observer = this.observer!;
    observer.record(observedCall(watch, this.name, observer.now(), false));
  }

  /** The request body an observed call read to key itself, if it did (it is not there to read twice). */
  private bodyRead(response: ServerResponse): Buffer | undefined {
    return this.observer === undefined ? undefined : (response as ObservedResponse).watch?.requestBody;
  }

  private passThrough(request: IncomingMessage, response: ServerResponse): void {
    if (this.replay) {
      // A client that leaves mid-body rejects the read: nothing to answer (as forward() does).
      this.answerFromReplay(request, response).catch(() => response.destroy());
      return;
    }
    this.traffic.passedThrough++;
    if (this.mock) {
      this.answerFromMock(request, response);
      return;
    }
    this.forward(request, response, this.bodyRead(response));
  }

  /** Forwards upstream; `body` when the request's body was already read (replay matching). */
  private forward(request: IncomingMessage, response: ServerResponse, body?: Buffer): void {
    // Recording reads the request body whole first: a tap on the stream would take chunks undici has not read yet.
    if (this.recorder && body === undefined) {
      readRequestBody(request).then(
        (read) => this.forward(request, response, read),
        () => {}, // the client left mid-body: nothing to record
      );
      return;
    }
    const options = dispatchOptions(request, this.basePath);
    if (body !== undefined) options.body = body.length > 0 ? body : null;
    const tap = this.recorder ? recordingTap(this.recorder, request, request.url!, body!) : undefined;
    this.pool!.dispatch(options, new StreamingForward(response, () => this.traffic.upstreamErrors++, tap));
  }

  /** Replay: the next matching recording, played with its timing; else the upstream, else a 501. */
  private async answerFromReplay(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = this.bodyRead(response) ?? (await readRequestBody(request));
    const entry = this.replay!.matcher.match(request.method!, request.url!, body);
    if (entry) {
      this.traffic.passedThrough++;
      playAnswer(response, answerOf(entry, this.replay!.timing), (ms, fn) => this.later(ms, fn));
    } else if (this.pool) {
      this.traffic.passedThrough++;
      this.traffic.unmatched++;
      this.forward(request, response, body);
    } else {
      this.traffic.unmatched++;
      answerUnmatched(response, this.replay!.matcher, request.method!, request.url!);
    }
  }

  private answerFromMock(request: IncomingMessage, response: ServerResponse): void {
    const mock = this.mock!;
    if (mock.preset) {
      this.presetAnswerOf(request, response).then(
        (answer) => playAnswer(response, answer, (ms, fn) => this.later(ms, fn)),
        () => response.destroy(), // the client left mid-body: nothing to answer
      );
      return;
    }
    const send = () => {
      if (!response.destroyed) response.writeHead(mock.answer.status, mock.answer.headers).end(mock.answer.body);
    };
    const delay = this.mockDelay();
    if (delay > 0) this.later(delay, send);
    else send();
  }

  private async fetchUpstream(request: IncomingMessage, response: ServerResponse): Promise<UpstreamAnswer> {
    let body = this.bodyRead(response);
    if (this.replay) {
      body ??= await readRequestBody(request);
      const entry = this.replay.matcher.match(request.method!, request.url!, body);
      if (entry) {
        this.traffic.passedThrough++;
        const { waitMs, ...answer } = answerOf(entry, this.replay.timing);
        await new Promise<void>((resolve) => this.later(waitMs, resolve));
        return answer;
      }
      this.traffic.unmatched++;
      if (!this.pool) throw new Error('no recording matches');
    }
    this.traffic.passedThrough++;
    if (this.mock?.preset) {
      const { waitMs, ...answer } = await this.presetAnswerOf(request, response);
      await new Promise<void>((resolve) => this.later(waitMs, resolve));
      return answer;
    }
    if (this.mock) {
      const { answer } = this.mock;
      return new Promise((resolve) => this.later(this.mockDelay(), () => resolve(answer)));
    }
    return fetchWhole(this.pool!, request, this.basePath, body).catch((error: unknown) => {
      this.traffic.upstreamErrors++;
      throw error;
    });
  }

  /** A preset's answer to the call (its body read, if the observer did not read it already), after the mock's latency. */
  private async presetAnswerOf(request: IncomingMessage, response: ServerResponse): Promise<TimedAnswer> {
    const delay = this.mockDelay();
    const body = this.bodyRead(response) ?? (await readRequestBody(request));
    return presetAnswer(this.mock!.preset!, request.method!, request.url!, body, delay);
  }

  /** The mock's latency for one call (ms): uniform in its range, drawn from the seeded generator when it has a span. */
  private mockDelay(): number {
    const mock = this.mock!;
    return mock.latencyLowMs + (mock.latencySpanMs > 0 ? this.decider.random() * mock.latencySpanMs : 0);
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  // ---- the listener, for `down` ----

  /** Closes the listener and drops open connections; false when it was not listening. */
  private goDown(): boolean {
    if (this.closed || !this.listening) return false;
    this.listening = false;
    this.server.close();
    for (let watch = this.openHead; watch !== null; watch = watch.next) watch.cut = true;
    for (const socket of this.sockets) socket.destroy();
    return true;
  }

  private async ensureListening(): Promise<void> {
    if (this.closed || this.listening) return;
    await this.openListener(this.port || this.listen.port);
  }

  private async openListener(port: number): Promise<void> {
    this.port = await listenOn(this.server, this.listen.host, port, this.name);
    this.listening = true;
  }
}
