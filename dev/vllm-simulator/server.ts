/**
 * A simulated vLLM server: an OpenAI-compatible stand-in for vLLM serving Mistral-7B-Instruct-v0.3,
 * for local runs, tests and benchmarks on machines without a GPU. It is NOT a model: answers are
 * deterministic Korean feedback texts built from the prompt. It reproduces what matters to a client:
 * request validation (Mistral's chat template), both of vLLM's error shapes, a `--max-num-seqs`
 * style scheduler with a FIFO queue, abort on disconnect, Prometheus metrics, and injectable faults.
 * Every response carries the header `x-vllm-simulator: 1`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export interface SimulatorOptions {
  /** Like vLLM --max-num-seqs: at most this many requests generate at once; the rest wait (FIFO). */
  maxNumSeqs: number;
  /** Fixed generation time per request. */
  latencyMs: number;
  /** Added per completion token (default 0). */
  latencyPerTokenMs?: number;
  /**
   * Over-commitment cost (default 0): a request that starts generating while others wait takes
   * (1 + penalty × min(1, waiting / maxNumSeqs)) times as long. Stands in for what a full KV cache
   * does to real vLLM (preemption and recomputation): goodput falls when more is sent than it can run.
   */
  overcommitPenalty?: number;
  /** Served model name, default 'mistralai/Mistral-7B-Instruct-v0.3'. */
  model?: string;
  /** Default 32768. */
  maxModelLen?: number;
}

export type FaultKind = 'error500' | 'error400' | 'hang' | 'slow' | 'empty' | 'english' | 'echo';

/**
 * A rule with `count` applies to the next `count` requests; one with `probability` applies at random;
 * one with both applies at random until it has applied `count` times; one with neither applies always.
 */
export interface FaultRule {
  kind: FaultKind;
  count?: number;
  probability?: number;
  slowMs?: number;
}

export interface SimulatorRequestRecord {
  messages: unknown;
  receivedAt: number;
  /** When it got a slot and started generating (absent while waiting, or for a rejected request). */
  startedAt?: number;
  /** Set when the response was sent or the request ended without one (client abort, server close). */
  finishedAt?: number;
  /** HTTP status of the response; absent while pending or when no response was sent. */
  status?: number;
}

export interface SimulatorStats {
  /** Chat completion requests received, valid or not. */
  received: number;
  /** Chat completion requests answered with 200. */
  completed: number;
  running: number;
  waiting: number;
  maxRunningSeen: number;
  faultsInjected: Record<string, number>;
  /** The most recent chat completion requests (at most 10,000). */
  requests: SimulatorRequestRecord[];
}

export interface VllmSimulator {
  /** Port 0 picks a free port; host defaults to 127.0.0.1. */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** Closes the server and all sockets, including those of hanging requests. */
  close(): Promise<void>;
  /** Replaces the active fault rules. */
  setFaults(rules: FaultRule[]): void;
  setCapacity(maxNumSeqs: number): void;
  /** Without `latencyPerTokenMs` (`overcommitPenalty`) the current value stays. */
  setLatency(latencyMs: number, latencyPerTokenMs?: number, overcommitPenalty?: number): void;
  stats(): SimulatorStats;
  resetStats(): void;
}

const DEFAULT_MODEL = 'mistralai/Mistral-7B-Instruct-v0.3';
const DEFAULT_MAX_MODEL_LEN = 32768;
const MAX_RECORDED_REQUESTS = 10_000;
const DEFAULT_SLOW_MS = 5000;
const ENGLISH_TEXT = 'Great job this week! Keep going with your green habits.';

export function createVllmSimulator(options: SimulatorOptions): VllmSimulator {
  return new Simulator(optionsSchema.parse(options));
}

// ---------------------------------------------------------------------------------------------
// Schemas

const maxNumSeqsSchema = z.int().min(1);
const durationSchema = z.number().min(0);

const optionsSchema = z.object({
  maxNumSeqs: maxNumSeqsSchema,
  latencyMs: durationSchema,
  latencyPerTokenMs: durationSchema.default(0),
  overcommitPenalty: z.number().min(0).max(100).default(0),
  model: z.string().min(1).default(DEFAULT_MODEL),
  maxModelLen: z.int().min(1).default(DEFAULT_MAX_MODEL_LEN),
});
type Settings = z.infer<typeof optionsSchema>;

const FAULT_KINDS = [
  'error500',
  'error400',
  'hang',
  'slow',
  'empty',
  'english',
  'echo',
] as const satisfies readonly FaultKind[];

const faultRuleSchema = z.object({
  kind: z.enum(FAULT_KINDS),
  count: z.int().min(0).optional(),
  probability: z.number().min(0).max(1).optional(),
  slowMs: z.number().min(0).optional(),
});
const faultsBodySchema = z.object({ rules: z.array(faultRuleSchema) });
const capacityBodySchema = z.object({ maxNumSeqs: maxNumSeqsSchema });
const latencyBodySchema = z.object({
  latencyMs: durationSchema,
  latencyPerTokenMs: durationSchema.optional(),
  overcommitPenalty: z.number().min(0).max(100).optional(),
});

const contentSchema = z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))]);
const chatRequestSchema = z.object({
  model: z.string().optional(),
  messages: z.array(z.object({ role: z.string(), content: contentSchema })).min(1),
  temperature: z.number().min(0).optional(),
  max_tokens: z.int().min(1).optional(),
});
type ChatRequest = z.infer<typeof chatRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Errors: vLLM answers in two shapes depending on version and code path; clients must read both.

type ErrorType = 'BadRequestError' | 'NotFoundError' | 'InternalServerError';

class HttpError extends Error {
  constructor(
    readonly status: 400 | 404 | 500,
    message: string,
  ) {
    super(message);
  }
}

function errorType(status: number): ErrorType {
  if (status === 400) return 'BadRequestError';
  if (status === 404) return 'NotFoundError';
  return 'InternalServerError';
}

function newErrorBody(status: number, message: string) {
  return { error: { message, type: errorType(status), param: null, code: status } };
}

function oldErrorBody(status: number, message: string) {
  return { object: 'error', message, type: errorType(status), param: null, code: status };
}

function parseOrBadRequest<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new HttpError(400, problems.join('; '));
}

// ---------------------------------------------------------------------------------------------
// Chat request validation

const ROLES_MESSAGE =
  'Only user and assistant roles are supported, with the exception of an initial optional system message!';
const ALTERNATION_MESSAGE =
  'After the optional system message, conversation roles must alternate user/assistant/user/assistant/...';

/** The checks of Mistral-7B-Instruct-v0.3's chat template, which vLLM reports as 400. */
function checkMistralRoles(roles: string[]): void {
  const conversation = roles[0] === 'system' ? roles.slice(1) : roles;
  conversation.forEach((role, index) => {
    if (role !== 'user' && role !== 'assistant') throw new HttpError(400, ROLES_MESSAGE);
    if ((role === 'user') !== (index % 2 === 0)) throw new HttpError(400, ALTERNATION_MESSAGE);
  });
  if (conversation.at(-1) !== 'user') {
    throw new HttpError(400, 'The conversation must end with a user message.');
  }
}

function messageText(content: ChatRequest['messages'][number]['content']): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/** A rough token estimate (about one token per two characters of Korean text). */
function estimateTokens(text: string): number {
  return Math.ceil(Array.from(text).length / 2);
}

function checkContextLength(promptTokens: number, maxTokens: number | undefined, maxModelLen: number): void {
  const requested = promptTokens + (maxTokens ?? 0);
  if (requested <= maxModelLen) return;
  throw new HttpError(
    400,
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${requested} tokens ` +
      `(${promptTokens} in the messages, ${maxTokens ?? 0} in the completion). ` +
      'Please reduce the length of the messages or completion.',
  );
}

// ---------------------------------------------------------------------------------------------
// Feedback text: deterministic, warm Korean, mentioning every challenge title of the prompt.

interface ChallengeResult {
  title: string;
  succeeded: boolean;
}

const PERSONAL_LINE = /^(\s*)-\s+(.+?)\s+\((성공|실패)\)\s*$/;
const BULLET_LINE = /^(\s*)-\s+(.+?)\s*$/;
const GROUP_PERIOD = /기간\s*:/;
const GROUP_RATE = /최근\s*일주일\s*성공률\s*:\s*(\d+)\s*\/\s*(\d+)/;

/** Personal challenges: `- title (성공|실패)`; group ones: `- title` with indented 기간/성공률 lines. */
function findChallenges(prompt: string): ChallengeResult[] {
  const lines = prompt.split(/\r?\n/);
  const found = new Map<string, boolean>();
  lines.forEach((line, index) => {
    const personal = PERSONAL_LINE.exec(line);
    if (personal) {
      if (!found.has(personal[2])) found.set(personal[2], personal[3] === '성공');
      return;
    }
    const bullet = BULLET_LINE.exec(line);
    if (!bullet) return;
    const details = indentedLinesAfter(lines, index, bullet[1].length);
    if (!details.some((detail) => GROUP_PERIOD.test(detail) || GROUP_RATE.test(detail))) return;
    if (!found.has(bullet[2])) found.set(bullet[2], groupSucceeded(details));
  });
  return [...found].map(([title, succeeded]) => ({ title, succeeded }));
}

function indentedLinesAfter(lines: string[], index: number, indent: number): string[] {
  const block: string[] = [];
  for (const line of lines.slice(index + 1)) {
    const lineIndent = line.length - line.trimStart().length;
    if (line.trim() === '' || lineIndent <= indent) break;
    block.push(line);
  }
  return block;
}

/** A group challenge counts as a success when at least half of the last week's days succeeded. */
function groupSucceeded(details: string[]): boolean {
  const rate = details.map((detail) => GROUP_RATE.exec(detail)).find((match) => match !== null);
  if (!rate) return false;
  const [successes, total] = [Number(rate[1]), Number(rate[2])];
  return total > 0 && successes * 2 >= total;
}

const OPENINGS = [
  '이번 주에도 지구를 위한 실천을 이어가 주셔서 정말 고마워요! 🌱',
  '한 주 동안 환경을 생각하며 움직여 주신 모습이 정말 멋져요! 🌱',
  '이번 주도 초록빛 습관을 위해 애써 주셔서 감사해요! 🌱',
];
const PRAISES = [
  (titles: string) => `${titles}에 성공하신 건 정말 대단한 일이에요.`,
  (titles: string) => `${titles}에서 보여 주신 꾸준함이 정말 빛났어요.`,
];
const ENCOURAGEMENTS = [
  (titles: string) => `${titles}에는 아쉽게 닿지 못했지만, 다음 주에 다시 도전하면 충분히 해낼 수 있어요.`,
  (titles: string) => `${titles}에서는 조금 아쉬웠지만, 작은 한 걸음부터 다시 시작하면 분명 달라질 거예요.`,
];
const NO_CHALLENGES =
  '아직 기록된 챌린지가 없다면, 텀블러 챙기기처럼 가벼운 실천부터 시작해 보는 건 어떨까요?';
const CLOSINGS = [
  '다음 주에도 함께 지구를 지켜 나가요! 💚',
  '작은 실천이 모여 큰 변화를 만든다는 걸 잊지 마세요! 🌍',
  '앞으로도 당신의 초록 발걸음을 응원할게요! 🌿',
];

/** FNV-1a: picks the wording variant, so the same prompt always gets the same text. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function pick<T>(variants: readonly T[], seed: number): T {
  return variants[seed % variants.length];
}

function quoteTitles(challenges: ChallengeResult[]): string {
  return challenges.map((challenge) => `'${challenge.title}'`).join(', ');
}

function feedbackText(prompt: string): string {
  const seed = hashText(prompt);
  const challenges = findChallenges(prompt);
  const succeeded = challenges.filter((challenge) => challenge.succeeded);
  const failed = challenges.filter((challenge) => !challenge.succeeded);
  const sentences = [pick(OPENINGS, seed)];
  if (succeeded.length > 0) sentences.push(pick(PRAISES, seed >>> 4)(quoteTitles(succeeded)));
  if (failed.length > 0) sentences.push(pick(ENCOURAGEMENTS, seed >>> 8)(quoteTitles(failed)));
  if (challenges.length === 0) sentences.push(NO_CHALLENGES);
  sentences.push(pick(CLOSINGS, seed >>> 12));
  return sentences.join(' ');
}

/** Cuts text to about `maxTokens` tokens, on code points so an emoji is never split. */
function limitTokens(text: string, maxTokens: number | undefined): { text: string; truncated: boolean } {
  if (maxTokens === undefined || estimateTokens(text) <= maxTokens) return { text, truncated: false };
  const kept = Array.from(text).slice(0, maxTokens * 2);
  return { text: kept.join(''), truncated: true };
}

// ---------------------------------------------------------------------------------------------
// Faults

class FaultRules {
  private rules: FaultRule[] = [];
  private readonly injected: Record<string, number> = {};

  replace(rules: FaultRule[]): void {
    // Copies, since counts are decremented here and the caller's objects stay untouched.
    this.rules = z.array(faultRuleSchema).parse(rules);
  }

  /** The first rule that applies to this request, if any; counts it as injected. */
  next(): FaultRule | undefined {
    const rule = this.rules.find((candidate) => this.applies(candidate));
    if (!rule) return undefined;
    if (rule.count !== undefined) rule.count -= 1;
    this.injected[rule.kind] = (this.injected[rule.kind] ?? 0) + 1;
    return rule;
  }

  counts(): Record<string, number> {
    return { ...this.injected };
  }

  resetCounts(): void {
    for (const kind of Object.keys(this.injected)) delete this.injected[kind];
  }

  private applies(rule: FaultRule): boolean {
    if (rule.count !== undefined && rule.count <= 0) return false;
    return rule.probability === undefined || Math.random() < rule.probability;
  }
}

// ---------------------------------------------------------------------------------------------
// Scheduler: `maxNumSeqs` slots, granted in arrival order.

interface Lease {
  /** Frees the slot, or leaves the queue if still waiting. Safe to call more than once. */
  release(): void;
}

interface Waiter {
  state: 'waiting' | 'running' | 'released';
  onGranted: () => void;
}

class FifoSlots {
  private running = 0;
  private peak = 0;
  private closed = false;
  private readonly queue: Waiter[] = [];

  constructor(private capacity: number) {}

  get runningCount(): number {
    return this.running;
  }

  get waitingCount(): number {
    return this.queue.length;
  }

  get maxRunningSeen(): number {
    return this.peak;
  }

  get maxNumSeqs(): number {
    return this.capacity;
  }

  /** `onGranted` may run before this returns, when a slot is free. */
  acquire(onGranted: () => void): Lease {
    const waiter: Waiter = { state: 'waiting', onGranted };
    this.queue.push(waiter);
    this.drain();
    return { release: () => this.release(waiter) };
  }

  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.drain();
  }

  resetPeak(): void {
    this.peak = this.running;
  }

  /** Drops the queue and grants nothing more. */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter.state = 'released';
  }

  private release(waiter: Waiter): void {
    if (waiter.state === 'running') {
      this.running -= 1;
      this.drain();
    } else if (waiter.state === 'waiting') {
      this.queue.splice(this.queue.indexOf(waiter), 1);
    }
    waiter.state = 'released';
  }

  private drain(): void {
    while (!this.closed && this.running < this.capacity && this.queue.length > 0) {
      const waiter = this.queue.shift() as Waiter;
      waiter.state = 'running';
      this.running += 1;
      this.peak = Math.max(this.peak, this.running);
      waiter.onGranted();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('Client closed the connection before sending the body'));
    });
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `Invalid JSON body: ${(error as Error).message}`);
  }
}

function lastUserContent(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  const user = [...messages].reverse().find((m) => (m as { role?: unknown })?.role === 'user') as
    { content?: unknown } | undefined;
  return typeof user?.content === 'string' ? user.content : undefined;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// ---------------------------------------------------------------------------------------------
// The simulator

interface Answer {
  content: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

class Simulator implements VllmSimulator {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly slots: FifoSlots;
  private readonly faults = new FaultRules();
  /** Stops of the requests waiting or generating, so close() can end them. */
  private readonly inFlight = new Set<() => void>();
  private requests: SimulatorRequestRecord[] = [];
  private received = 0;
  private completed = 0;
  /** Prometheus counters never go down, so resetStats() leaves this one alone. */
  private successTotal = 0;
  private promptTokensTotal = 0;
  private generationTokensTotal = 0;
  private nextId = 0;

  private readonly routes: Record<string, Handler> = {
    'POST /v1/chat/completions': (req, res) => this.chatCompletion(req, res),
    'GET /v1/models': (_req, res) => sendJson(res, 200, this.modelList()),
    'GET /health': (_req, res) => send(res, 200, 'text/plain', ''),
    'GET /metrics': (_req, res) => send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', this.metrics()),
    'POST /sim/faults': async (req, res) => {
      this.setFaults(parseOrBadRequest(faultsBodySchema, await readJson(req)).rules);
      sendJson(res, 200, { ok: true });
    },
    'POST /sim/capacity': async (req, res) => {
      this.setCapacity(parseOrBadRequest(capacityBodySchema, await readJson(req)).maxNumSeqs);
      sendJson(res, 200, { ok: true });
    },
    'POST /sim/latency': async (req, res) => {
      const body = parseOrBadRequest(latencyBodySchema, await readJson(req));
      this.setLatency(body.latencyMs, body.latencyPerTokenMs, body.overcommitPenalty);
      sendJson(res, 200, { ok: true });
    },
    'GET /sim/stats': (_req, res) => sendJson(res, 200, this.counters()),
    // Request records for another process (chaos runs measure when an aborted call was retried).
    'GET /sim/requests': (_req, res) =>
      sendJson(
        res,
        200,
        this.requests.map((r) => ({
          receivedAt: r.receivedAt,
          startedAt: r.startedAt,
          finishedAt: r.finishedAt,
          status: r.status,
          prompt: lastUserContent(r.messages),
        })),
      ),
    'POST /sim/reset': (_req, res) => {
      this.resetStats();
      this.setFaults([]);
      sendJson(res, 200, { ok: true });
    },
  };

  constructor(private readonly settings: Settings) {
    this.slots = new FifoSlots(settings.maxNumSeqs);
  }

  listen(port: number, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const actual = (this.server.address() as AddressInfo).port;
        resolve({ port: actual, url: `http://${urlHost(host)}:${actual}` });
      });
    });
  }

  async close(): Promise<void> {
    this.slots.close();
    for (const stop of [...this.inFlight]) stop();
    if (!this.server.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  setFaults(rules: FaultRule[]): void {
    this.faults.replace(rules);
  }

  setCapacity(maxNumSeqs: number): void {
    this.slots.setCapacity(maxNumSeqsSchema.parse(maxNumSeqs));
  }

  setLatency(latencyMs: number, latencyPerTokenMs?: number, overcommitPenalty?: number): void {
    this.settings.latencyMs = durationSchema.parse(latencyMs);
    if (latencyPerTokenMs !== undefined)
      this.settings.latencyPerTokenMs = durationSchema.parse(latencyPerTokenMs);
    if (overcommitPenalty !== undefined) this.settings.overcommitPenalty = Math.max(0, overcommitPenalty);
  }

  stats(): SimulatorStats {
    return { ...this.counters(), requests: this.requests.map((record) => ({ ...record })) };
  }

  resetStats(): void {
    this.received = 0;
    this.completed = 0;
    this.requests = [];
    this.slots.resetPeak();
    this.faults.resetCounts();
  }

  private counters(): Omit<SimulatorStats, 'requests'> {
    return {
      received: this.received,
      completed: this.completed,
      running: this.slots.runningCount,
      waiting: this.slots.waitingCount,
      maxRunningSeen: this.slots.maxRunningSeen,
      faultsInjected: this.faults.counts(),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-vllm-simulator', '1');
    const path = (req.url ?? '/').split('?')[0];
    const handler = this.routes[`${req.method} ${path}`];
    try {
      if (!handler) throw new HttpError(404, `Not found: ${req.method} ${path}`);
      await handler(req, res);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      sendJson(res, status, newErrorBody(status, (error as Error).message));
    }
  }

  private async chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = this.record(res);
    const body = await readJson(req);
    record.messages = (body as { messages?: unknown } | undefined)?.messages;
    const chat = this.validate(body);
    const fault = this.faults.next();
    if (fault?.kind === 'error500') {
      return sendJson(res, 500, oldErrorBody(500, 'Simulated fault: the engine failed while generating.'));
    }
    if (fault?.kind === 'error400') throw new HttpError(400, 'Simulated fault: the request was rejected.');
    this.schedule(res, this.answer(chat, fault), fault, record);
  }

  private record(res: ServerResponse): SimulatorRequestRecord {
    this.received += 1;
    const record: SimulatorRequestRecord = { messages: undefined, receivedAt: Date.now() };
    this.requests.push(record);
    if (this.requests.length > MAX_RECORDED_REQUESTS) this.requests.shift();
    res.on('close', () => {
      record.finishedAt = Date.now();
      if (res.writableFinished) record.status = res.statusCode;
    });
    return record;
  }

  private validate(body: unknown): ChatRequest {
    const chat = parseOrBadRequest(chatRequestSchema, body);
    if (chat.model !== undefined && chat.model !== this.settings.model) {
      throw new HttpError(404, `The model \`${chat.model}\` does not exist.`);
    }
    checkMistralRoles(chat.messages.map((message) => message.role));
    const promptText = chat.messages.map((message) => messageText(message.content)).join('\n');
    checkContextLength(estimateTokens(promptText), chat.max_tokens, this.settings.maxModelLen);
    return chat;
  }

  private answer(chat: ChatRequest, fault: FaultRule | undefined): Answer {
    const texts = chat.messages.map((message) => messageText(message.content));
    const lastUserText = texts[texts.length - 1];
    const promptTokens = estimateTokens(texts.join('\n'));
    const finish = (content: string, truncated = false): Answer => ({
      content,
      finishReason: truncated ? 'length' : 'stop',
      promptTokens,
      completionTokens: estimateTokens(content),
    });
    if (fault?.kind === 'empty') return finish('');
    if (fault?.kind === 'english') return finish(ENGLISH_TEXT);
    // Never cut: tests read the echoed prompt in full.
    if (fault?.kind === 'echo') return finish(lastUserText);
    const limited = limitTokens(feedbackText(lastUserText), chat.max_tokens);
    return finish(limited.text, limited.truncated);
  }

  /** Waits for a slot, holds it for the generation time, then answers; a disconnect aborts it. */
  private schedule(
    res: ServerResponse,
    answer: Answer,
    fault: FaultRule | undefined,
    record: SimulatorRequestRecord,
  ): void {
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      lease.release();
      this.inFlight.delete(stop);
    };
    const lease = this.slots.acquire(() => {
      record.startedAt = Date.now();
      if (fault?.kind === 'hang') return; // holds the slot until the client or the server gives up
      timer = setTimeout(
        () => {
          stop();
          this.reply(res, answer);
        },
        this.generationMs(answer, fault),
      );
    });
    this.inFlight.add(stop);
    res.on('close', stop);
  }

  private generationMs(answer: Answer, fault: FaultRule | undefined): number {
    const { latencyMs, latencyPerTokenMs, overcommitPenalty } = this.settings;
    const pressure = Math.min(1, this.slots.waitingCount / this.slots.maxNumSeqs);
    const base =
      (latencyMs + latencyPerTokenMs * answer.completionTokens) * (1 + overcommitPenalty * pressure);
    if (fault?.kind !== 'slow') return base;
    return base + (fault.slowMs ?? (latencyMs > 0 ? 10 * latencyMs : DEFAULT_SLOW_MS));
  }

  private reply(res: ServerResponse, answer: Answer): void {
    if (res.destroyed) return;
    this.completed += 1;
    this.successTotal += 1;
    this.promptTokensTotal += answer.promptTokens;
    this.generationTokensTotal += answer.completionTokens;
    this.nextId += 1;
    sendJson(res, 200, {
      id: `chatcmpl-sim-${this.nextId}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: this.settings.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer.content },
          finish_reason: answer.finishReason,
        },
      ],
      usage: {
        prompt_tokens: answer.promptTokens,
        completion_tokens: answer.completionTokens,
        total_tokens: answer.promptTokens + answer.completionTokens,
      },
    });
  }

  private modelList() {
    const { model, maxModelLen } = this.settings;
    return {
      object: 'list',
      data: [{ id: model, object: 'model', owned_by: 'vllm-simulator', max_model_len: maxModelLen }],
    };
  }

  private metrics(): string {
    const labels = `{model_name="${escapeLabel(this.settings.model)}"}`;
    const running = this.slots.runningCount;
    const waiting = this.slots.waitingCount;
    const usage = Math.min(1, running / this.slots.maxNumSeqs);
    const samples: Array<[name: string, type: 'gauge' | 'counter', help: string, value: number]> = [
      ['vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', running],
      ['vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', waiting],
      ['vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', usage],
      [
        'vllm:request_success_total',
        'counter',
        'Count of successfully processed requests.',
        this.successTotal,
      ],
      ['vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', this.promptTokensTotal],
      [
        'vllm:generation_tokens_total',
        'counter',
        'Number of generation tokens processed.',
        this.generationTokensTotal,
      ],
    ];
    const render = ([name, type, help, value]: (typeof samples)[number]) =>
      `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${labels} ${value}\n`;
    return samples.map(render).join('');
  }
}
