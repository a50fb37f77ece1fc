/** What the simulator counts: the stats of `stats()` and /sim/..., and vLLM's Prometheus metrics. */
import type { ServerResponse } from 'node:http';

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

/** The scheduler's load, as the stats and metrics report it. */
export interface Load {
  readonly runningCount: number;
  readonly waitingCount: number;
  readonly maxRunningSeen: number;
  readonly maxNumSeqs: number;
}

const MAX_RECORDED_REQUESTS = 10_000;

export class Metrics {
  private requests: SimulatorRequestRecord[] = [];
  private received = 0;
  private completed = 0;
  /** Prometheus counters never go down, so reset() leaves these alone. */
  private successTotal = 0;
  private promptTokensTotal = 0;
  private generationTokensTotal = 0;

  /** Counts a chat completion request; its record is finished when the response closes. */
  receive(res: ServerResponse): SimulatorRequestRecord {
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

  complete(promptTokens: number, completionTokens: number): void {
    this.completed += 1;
    this.successTotal += 1;
    this.promptTokensTotal += promptTokens;
    this.generationTokensTotal += completionTokens;
  }

  reset(): void {
    this.received = 0;
    this.completed = 0;
    this.requests = [];
  }

  counters(load: Load, faultsInjected: Record<string, number>): Omit<SimulatorStats, 'requests'> {
    return {
      received: this.received,
      completed: this.completed,
      running: load.runningCount,
      waiting: load.waitingCount,
      maxRunningSeen: load.maxRunningSeen,
      faultsInjected,
    };
  }

  stats(load: Load, faultsInjected: Record<string, number>): SimulatorStats {
    return {
      ...this.counters(load, faultsInjected),
      requests: this.requests.map((record) => ({ ...record })),
    };
  }

  /** The records for another process (chaos runs measure when an aborted call was retried). */
  requestSummaries() {
    return this.requests.map((r) => ({
      receivedAt: r.receivedAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      status: r.status,
      prompt: lastUserContent(r.messages),
    }));
  }

  /** The Prometheus text of /metrics, with vLLM's names for what the simulator has. */
  exposition(model: string, load: Load): string {
    const labels = `{model_name="${escapeLabel(model)}"}`;
    const running = load.runningCount;
    const waiting = load.waitingCount;
    const usage = Math.min(1, running / load.maxNumSeqs);
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

function lastUserContent(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  const user = [...messages].reverse().find((m) => (m as { role?: unknown })?.role === 'user') as
    { content?: unknown } | undefined;
  return typeof user?.content === 'string' ? user.content : undefined;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
