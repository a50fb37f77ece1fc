/**
 * Tracing: one request through API → SQS → bridge → workflow → activities → vLLM and callback is one
 * connected trace (every span in one trace, every parent among the spans, one root: the API's span).
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../src/config';
import { setupTracing, type Tracing } from '../../src/shared/tracing';
import { acceptedRequest } from '../support/accepted';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';

jest.setTimeout(120_000);

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let pipeline: Pipeline;

beforeAll(async () => {
  const settings = loadConfig({}).tracing;
  expect(settings.exporter).toBe('none'); // off unless configured
  tracing = (await setupTracing(settings, 'e2e', exporter)) as Tracing;
  pipeline = await startPipeline('tracing', 'callback', { tracing });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await tracing?.shutdown();
});

it('turns one request into one connected trace from the API to the callback', async () => {
  const response = await fetch(`${pipeline.apiUrl}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      memberId: 31,
      personalChallenges: [{ id: 1, title: '텀블러 사용하기', isSuccess: true }],
    }),
  });
  const { workflowId, requestId } = await acceptedRequest(response);
  await workflowResult(pipeline.temporal, workflowId);

  // Workflow spans reach the exporter through a sink after the workflow task: wait for the last ones.
  const deadline = Date.now() + 10_000;
  const root = () =>
    exporter
      .getFinishedSpans()
      .find(
        (s) => s.name === 'feedback.request.enqueue' && s.attributes['feedback.request_id'] === requestId,
      );
  let spans: ReadableSpan[] = [];
  while (Date.now() < deadline) {
    const api = root();
    spans = api
      ? exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === api.spanContext().traceId)
      : [];
    if (spans.some((s) => s.name === 'RunWorkflow:FeedbackWorkflow')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const names = spans.map((s) => s.name);
  expect(names).toEqual(
    expect.arrayContaining([
      'feedback.request.enqueue', // API
      'feedback.request.start', // bridge
      'StartWorkflow:FeedbackWorkflow', // Temporal client in the bridge
      'RunWorkflow:FeedbackWorkflow', // workflow
      'StartActivity:generateCheckedFeedback',
      'RunActivity:generateCheckedFeedback',
      'StartActivity:deliverResult',
      'RunActivity:deliverResult',
    ]),
  );
  // The HTTP calls of the activities: vLLM's chat completion and the BE callback.
  expect(names.some((n) => /^POST 127\.0\.0\.1:\d+\/v1\/chat\/completions$/.test(n))).toBe(true);
  expect(names.some((n) => /^POST 127\.0\.0\.1:\d+\/api\/members\/feedback\/result$/.test(n))).toBe(true);

  // Connected: one root (the API's span), and every other span's parent is a span of this trace.
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const roots = spans.filter((s) => !s.parentSpanId);
  expect(roots.map((s) => s.name)).toEqual(['feedback.request.enqueue']);
  for (const span of spans) {
    if (span.parentSpanId)
      expect({ span: span.name, parentKnown: ids.has(span.parentSpanId) }).toEqual({
        span: span.name,
        parentKnown: true,
      });
  }
  // The callback carried the trace context to the BE.
  const callback = pipeline.receiver.attempts().find((a) => a.idempotencyKey === workflowId);
  expect(callback?.traceparent).toMatch(new RegExp(`^00-${roots[0].spanContext().traceId}-[0-9a-f]{16}-01$`));
});
