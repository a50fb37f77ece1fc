/** The HTTP side: vLLM's routes, request validation and error shapes, and the /sim control API. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type FaultRule, FaultRules, faultError, faultRuleSchema, replacementText } from './faults';
import { Metrics, type SimulatorRequestRecord, type SimulatorStats } from './metrics';
import { Scheduler, durationSchema, maxNumSeqsSchema, overcommitPenaltySchema } from './scheduler';
import { chatPromptTokens } from '../../src/shared/mistral-tokenizer';
import { type Answer, composeAnswer, messageText } from './text';

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
  /** Like vLLM's --max-model-len: prompt and completion tokens together. Default 32768. */
  maxModelLen?: number;
  /** Like vLLM's --api-key: every /v1 route then needs `Authorization: Bearer <key>` (401 otherwise). */
  apiKey?: string;
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

export function createVllmSimulator(options: SimulatorOptions): VllmSimulator {
  return new Simulator(optionsSchema.parse(options));
}

// ---------------------------------------------------------------------------------------------
// Schemas

const optionsSchema = z.object({
  maxNumSeqs: maxNumSeqsSchema,
  latencyMs: durationSchema,
  latencyPerTokenMs: durationSchema.default(0),
  overcommitPenalty: overcommitPenaltySchema.default(0),
  model: z.string().min(1).default(DEFAULT_MODEL),
  maxModelLen: z.int().min(1).default(DEFAULT_MAX_MODEL_LEN),
  apiKey: z.string().min(1).optional(),
});
type Settings = z.infer<typeof optionsSchema>;

const faultsBodySchema = z.object({ rules: z.array(faultRuleSchema) });
const capacityBodySchema = z.object({ maxNumSeqs: maxNumSeqsSchema });
const latencyBodySchema = z.object({
  latencyMs: durationSchema,
  latencyPerTokenMs: durationSchema.optional(),
  overcommitPenalty: overcommitPenaltySchema.optional(),
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

/**
 * What vLLM v0.11.0 with `--tokenizer-mode mistral` does with a request's length (its
 * `serving_chat.py` `create_chat_completion`): the completion budget is `max_tokens` cut to what the
 * context leaves (`entrypoints/utils.py` `get_max_tokens`), and a prompt that leaves nothing fails
 * SamplingParams' check (`sampling_params.py` `_verify_args`), which vLLM answers with 400.
 */
function completionBudget(promptTokens: number, maxTokens: number | undefined, maxModelLen: number): number {
  const left = maxModelLen - promptTokens;
  const budget = Math.min(left, maxTokens ?? left);
  if (budget < 1) throw new HttpError(400, `max_tokens must be at least 1, got ${budget}.`);
  return budget;
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

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

// ---------------------------------------------------------------------------------------------
// The simulator

class Simulator implements VllmSimulator {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly scheduler: Scheduler;
  private readonly faults = new FaultRules();
  private readonly metrics = new Metrics();
  private nextId = 0;

  private readonly routes: Record<string, Handler> = {
    'POST /v1/chat/completions': (req, res) => this.chatCompletion(req, res),
    'GET /v1/models': (_req, res) => sendJson(res, 200, this.modelList()),
    'GET /health': (_req, res) => send(res, 200, 'text/plain', ''),
    'GET /metrics': (_req, res) =>
      send(
        res,
        200,
        'text/plain; version=0.0.4; charset=utf-8',
        this.metrics.exposition(this.settings.model, this.scheduler),
      ),
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
    'GET /sim/stats': (_req, res) =>
      sendJson(res, 200, this.metrics.counters(this.scheduler, this.faults.counts())),
    'GET /sim/requests': (_req, res) => sendJson(res, 200, this.metrics.requestSummaries()),
    'POST /sim/reset': (_req, res) => {
      this.resetStats();
      this.setFaults([]);
      sendJson(res, 200, { ok: true });
    },
  };

  constructor(private readonly settings: Settings) {
    this.scheduler = new Scheduler(settings);
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
    this.scheduler.close();
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
    this.scheduler.setCapacity(maxNumSeqs);
  }

  setLatency(latencyMs: number, latencyPerTokenMs?: number, overcommitPenalty?: number): void {
    this.scheduler.setLatency(latencyMs, latencyPerTokenMs, overcommitPenalty);
  }

  stats(): SimulatorStats {
    return this.metrics.stats(this.scheduler, this.faults.counts());
  }

  resetStats(): void {
    this.metrics.reset();
    this.scheduler.resetPeak();
    this.faults.resetCounts();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-vllm-simulator', '1');
    const path = (req.url ?? '/').split('?')[0];
    const handler = this.routes[`${req.method} ${path}`];
    const { apiKey } = this.settings;
    if (apiKey && path.startsWith('/v1') && req.headers.authorization !== `Bearer ${apiKey}`) {
      // vLLM's AuthenticationMiddleware (api_server.py) answers this body, in neither error shape.
      return sendJson(res, 401, { error: 'Unauthorized' });
    }
    try {
      if (!handler) throw new HttpError(404, `Not found: ${req.method} ${path}`);
      await handler(req, res);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      sendJson(res, status, newErrorBody(status, (error as Error).message));
    }
  }

  private async chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = this.metrics.receive(res);
    const body = await readJson(req);
    record.messages = (body as { messages?: unknown } | undefined)?.messages;
    const chat = this.validate(body);
    const fault = this.faults.next();
    const error = faultError(fault);
    if (error) {
      if (error.shape === 'auth') return sendJson(res, error.status, { error: error.message });
      const errorBody = error.shape === 'old' ? oldErrorBody : newErrorBody;
      return sendJson(res, error.status, errorBody(error.status, error.message));
    }
    const texts = chat.messages.map((message) => messageText(message.content));
    const answer = composeAnswer(
      texts,
      chat.promptTokens,
      chat.maxTokens,
      replacementText(fault, texts[texts.length - 1]),
    );
    this.schedule(res, answer, fault, record);
  }

  /** vLLM's order: the model (404), the chat template (400), then the request's length (400). */
  private validate(body: unknown): ChatRequest & { promptTokens: number; maxTokens: number } {
    const chat = parseOrBadRequest(chatRequestSchema, body);
    if (chat.model !== undefined && chat.model !== this.settings.model) {
      throw new HttpError(404, `The model \`${chat.model}\` does not exist.`);
    }
    checkMistralRoles(chat.messages.map((message) => message.role));
    const promptTokens = chatPromptTokens(
      chat.messages.map((message) => ({ role: message.role, content: messageText(message.content) })),
    );
    const maxTokens = completionBudget(promptTokens, chat.max_tokens, this.settings.maxModelLen);
    return { ...chat, promptTokens, maxTokens };
  }

  /** Waits for a slot, holds it for the generation time, then answers; a disconnect aborts it. */
  private schedule(
    res: ServerResponse,
    answer: Answer,
    fault: FaultRule | undefined,
    record: SimulatorRequestRecord,
  ): void {
    const stop = this.scheduler.start({
      completionTokens: answer.completionTokens,
      fault,
      onStarted: () => {
        record.startedAt = Date.now();
      },
      onDone: () => this.reply(res, answer),
    });
    res.on('close', stop);
  }

  private reply(res: ServerResponse, answer: Answer): void {
    if (res.destroyed) return;
    this.metrics.complete(answer.promptTokens, answer.completionTokens);
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
}
