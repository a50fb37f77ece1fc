/**
 * The Temporal section (src/config/temporal.ts) apart from TLS (temporal-tls.test.ts): where the
 * frontend is, which namespace and task queue, and the Web UI the status links point into.
 */
import { problemsOf } from '../support/config';
import { loadConfig } from '../../src/config';
import { webUiLink } from '../../src/shared/temporal';

it('defaults to the local dev server, the default namespace and the leafresh-feedback task queue', () => {
  expect(loadConfig({}).temporal).toMatchObject({
    address: 'localhost:7233',
    namespace: 'default',
    taskQueue: 'leafresh-feedback',
    webUiUrl: 'http://localhost:8233',
  });
});

it('takes each setting from its variable, and refuses empty ones', () => {
  expect(
    loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'leafresh-prod',
      TEMPORAL_TASK_QUEUE: 'feedback',
      TEMPORAL_WEB_UI_URL: 'https://temporal.example.com/ui',
    }).temporal,
  ).toMatchObject({
    address: 'temporal.internal:7233',
    namespace: 'leafresh-prod',
    taskQueue: 'feedback',
    webUiUrl: 'https://temporal.example.com/ui',
  });
  const problems = problemsOf(() => loadConfig({ TEMPORAL_NAMESPACE: '', TEMPORAL_TASK_QUEUE: '' }));
  expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE']);
});

it('drops trailing slashes of the Web UI URL, so that links into it have none doubled', () => {
  const { temporal } = loadConfig({ TEMPORAL_WEB_UI_URL: 'https://temporal.example.com/ui//' });
  expect(temporal.webUiUrl).toBe('https://temporal.example.com/ui');
  expect(webUiLink(temporal, 'feedback-42-msg-1', 'run-1')).toBe(
    'https://temporal.example.com/ui/namespaces/default/workflows/feedback-42-msg-1/run-1',
  );
  expect(problemsOf(() => loadConfig({ TEMPORAL_WEB_UI_URL: 'temporal:8233' }))).toEqual([
    expect.stringMatching(/^TEMPORAL_WEB_UI_URL: /),
  ]);
});
