/**
 * The Helm chart (deploy/helm/leafresh-feedback) checked without a cluster: helm lint; helm template
 * with the default values, values-eks.yaml and variants; every object valid against the Kubernetes,
 * KEDA and prometheus-operator schemas, with no field they do not define; every container's
 * environment known to the config schema (or the AWS SDK) and enough for its process to start; probes
 * on the ports the processes listen on; shutdown, security, scaling and the network policy as designed.
 * helm comes from .tools/bin (scripts/ensure-helm.sh). Nothing here deploys to a cluster.
 */
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { parse } from 'yaml';
import { ConfigError, envSchema, loadConfig, type AppConfig } from '../../src/config';
import { AWS_SDK_VARIABLES, read, requirementsOf } from './compose';
import {
  CHART,
  HELM,
  KUBE_VERSION,
  containerEnvironment,
  containerOf,
  entryPointOf,
  find,
  helm,
  one,
  render,
  requireHelm,
  unknownFields,
  validate,
  type K8sObject,
  type RenderOptions,
  type RenderedDeployment,
} from './helm';

const RELEASE = 'leafresh-feedback';
/** The processes: the values key, the package.json script that runs it and the port it listens on. */
const PROCESSES = {
  api: { values: 'api', script: 'start:api', port: (c: AppConfig) => c.api.port },
  'sqs-bridge': { values: 'bridge', script: 'start:bridge', port: (c: AppConfig) => c.health.bridgePort },
  worker: { values: 'worker', script: 'start:worker', port: (c: AppConfig) => c.health.workerPort },
} as const;
type ProcessName = keyof typeof PROCESSES;
const PROCESS_NAMES = Object.keys(PROCESSES) as ProcessName[];
const nameOf = (process: ProcessName) => `${RELEASE}-${process}`;

/** The renders every check runs on: the two values files, and variants for the other secret setups. */
const VARIANTS: Record<string, RenderOptions> = {
  default: {},
  eks: { valuesFiles: ['values-eks.yaml'] },
  'bearer API with ServiceMonitors': {
    set: {
      'api.auth.mode': 'bearer',
      'secrets.apiAuth.name': 'feedback-api-auth',
      'serviceMonitor.enabled': true,
    },
  },
  'HMAC API': {
    set: {
      'api.auth.mode': 'hmac',
      'secrets.apiAuth.name': 'feedback-api-auth',
      'serviceMonitor.enabled': true,
      'serviceMonitor.scrapeApi': false,
    },
  },
  'Temporal mTLS with KEDA': {
    set: {
      'config.TEMPORAL_ADDRESS': 'leafresh-feedback.a1b2c.tmprl.cloud:7233',
      'config.TEMPORAL_NAMESPACE': 'leafresh-feedback.a1b2c',
      'config.LLM_TASK_QUEUE': 'feedback-llm-calls',
      'secrets.temporalTls.name': 'temporal-client',
      'secrets.temporalTls.caKey': 'ca.crt',
      'autoscaling.keda.enabled': true,
    },
  },
  'egress rules, CA-only Temporal TLS with KEDA': {
    set: {
      'networkPolicy.egress.enabled': true,
      'secrets.temporalTls.name': 'temporal-ca',
      'secrets.temporalTls.certKey': '',
      'secrets.temporalTls.keyKey': '',
      'secrets.temporalTls.caKey': 'ca.crt',
      'autoscaling.keda.enabled': true,
    },
  },
  'setup hook Job with Temporal mTLS and an API key': {
    set: {
      'setup.enabled': true,
      'setup.namespaceRetention': '7d',
      'secrets.temporalTls.name': 'temporal-client',
      'secrets.temporalApiKey.name': 'temporal-api-key',
    },
  },
  'callback delivery with signing and vLLM key': {
    set: {
      'config.DELIVERY_MODE': 'callback',
      'config.BE_CALLBACK_BASE_URL': 'https://be.leafresh.example',
      'secrets.callback.name': 'feedback-callback',
      'secrets.callback.signingSecretKey': 'BE_CALLBACK_SIGNING_SECRET',
      'secrets.vllmApiKey.name': 'vllm',
      'worker.env.WORKER_MAX_CONCURRENT_ACTIVITIES': 64,
      'config.BRIDGE_MAX_OPEN_QUEUE_RUNS': 1000000,
    },
  },
};
const VARIANT_NAMES = Object.keys(VARIANTS);

const renders = new Map<string, K8sObject[]>();
function rendered(variant: string): K8sObject[] {
  let objects = renders.get(variant);
  if (!objects) {
    objects = render({ release: RELEASE, ...VARIANTS[variant] });
    renders.set(variant, objects);
  }
  return objects;
}

const deploymentOf = (objects: K8sObject[], process: ProcessName) =>
  one<RenderedDeployment>(objects, 'Deployment', nameOf(process));

/** The environment each process's container gets in a render. */
function environmentOf(objects: K8sObject[], process: ProcessName): Record<string, string> {
  return containerEnvironment(containerOf(deploymentOf(objects, process)), objects);
}

/** The requirements the process's entry point passes to loadConfig (read from its source). */
function requirementsFor(objects: K8sObject[], process: ProcessName) {
  return requirementsOf(read(entryPointOf(containerOf(deploymentOf(objects, process)))));
}

function configProblems(objects: K8sObject[], process: ProcessName): string[] {
  try {
    loadConfig(environmentOf(objects, process), requirementsFor(objects, process));
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const configOf = (objects: K8sObject[], process: ProcessName) =>
  loadConfig(environmentOf(objects, process), requirementsFor(objects, process));

/** Variables the config schema does not read and the AWS SDK does not either. */
function unknownVariables(env: Record<string, string>): string[] {
  const known = new Set(Object.keys(envSchema.shape));
  return Object.keys(env).filter((name) => !known.has(name) && !AWS_SDK_VARIABLES.has(name));
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const podLabels = (d: RenderedDeployment) => d.spec?.template.metadata?.labels;

interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
}

/** Problems of the workers' ScaledObject against the worker's own configuration. */
function scaledObjectProblems(objects: K8sObject[]): string[] {
  const so = one(objects, 'ScaledObject', nameOf('worker')) as K8sObject & { spec: ScaledObjectSpec };
  const config = configOf(objects, 'worker');
  const problems: string[] = [];
  if (so.spec.scaleTargetRef.name !== nameOf('worker')) problems.push('does not scale the worker Deployment');
  if (so.spec.minReplicaCount < 1) problems.push('may scale the workers to zero');
  if (so.spec.triggers.length !== 1) problems.push('has other triggers than the workflow task queue');
  for (const trigger of so.spec.triggers) {
    const m = trigger.metadata;
    if (trigger.type !== 'temporal') problems.push(`trigger ${trigger.type}, not temporal`);
    if (m.taskQueue !== config.temporal.taskQueue) {
      problems.push(`task queue ${m.taskQueue}, not the workflow task queue ${config.temporal.taskQueue}`);
    }
    if (m.taskQueue === config.temporal.llmTaskQueue || m.taskQueue.endsWith('-llm')) {
      problems.push(`scales on the LLM task queue ${m.taskQueue}`);
    }
    if (m.endpoint !== config.temporal.address) problems.push(`endpoint ${m.endpoint}`);
    if (m.namespace !== config.temporal.namespace) problems.push(`namespace ${m.namespace}`);
  }
  return problems;
}

describe('Helm chart deploy/helm/leafresh-feedback', () => {
  it('finds helm v4.1.4 at .tools/bin/helm (scripts/ensure-helm.sh installs it)', () => {
    expect(requireHelm()).toBe(HELM);
    expect(helm(['version', '--template', '{{.Version}}'])).toBe('v4.1.4');
  });

  it.each([
    ['the default values', []],
    ['values-eks.yaml', ['-f', `${CHART}/values-eks.yaml`]],
  ])('passes helm lint --strict with %s', (_label, extra) => {
    const out = helm(['lint', CHART, '--strict', '--kube-version', KUBE_VERSION, ...extra]);
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each(VARIANT_NAMES)(
    'renders (%s) into objects that the schemas accept, with no unknown field',
    (variant) => {
      const objects = rendered(variant);
      expect(objects.length).toBeGreaterThan(8);
      for (const object of objects) expect(() => validate(object)).not.toThrow();
      expect(unknownFields(objects)).toEqual([]);
    },
  );

  it('the schema checks catch broken objects (negative check)', () => {
    const deployment = structuredClone(deploymentOf(rendered('default'), 'worker'));
    const broken = (change: (d: RenderedDeployment) => void) => {
      const copy = structuredClone(deployment);
      change(copy);
      return copy;
    };
    expect(() => validate(broken((d) => Object.assign(d.spec!, { replicas: 'two' })))).toThrow(
      /replicas must be integer/,
    );
    expect(() => validate(broken((d) => delete (containerOf(d) as { name?: string }).name))).toThrow(
      /must have required property name/,
    );
    expect(() => validate({ ...deployment, kind: 'Deploymnet' })).toThrow(/no schema known/);
    const so = structuredClone(one(rendered('eks'), 'ScaledObject', nameOf('worker'))) as K8sObject & {
      spec: ScaledObjectSpec;
    };
    (so.spec.triggers[0].metadata as Record<string, unknown>).targetQueueSize = 10;
    expect(() => validate(so)).toThrow(/must be string/);
    // Fields the schemas let through: a misspelt probe, a pod setting one level too high.
    const misspelt = broken((d) => {
      const c = containerOf(d) as unknown as Record<string, unknown>;
      c.readinesProbe = c.readinessProbe;
      delete c.readinessProbe;
    });
    const misplaced = broken((d) => Object.assign(d.spec!, { terminationGracePeriodSeconds: 40 }));
    expect(() => validate(misspelt)).not.toThrow();
    expect(() => validate(misplaced)).not.toThrow();
    expect(unknownFields([deployment, misspelt, misplaced])).toEqual([
      expect.stringContaining("'\"readinesProbe\"' does not exist in type 'IContainer'"),
      expect.stringContaining("'\"terminationGracePeriodSeconds\"' does not exist in type 'IDeploymentSpec'"),
    ]);
  });

  it('renders for values-eks.yaml exactly these objects', () => {
    const list = rendered('eks').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(list.sort()).toEqual(
      [
        'ConfigMap/leafresh-feedback-config',
        'Deployment/leafresh-feedback-api',
        'Deployment/leafresh-feedback-sqs-bridge',
        'Deployment/leafresh-feedback-worker',
        'NetworkPolicy/leafresh-feedback-api',
        'PodDisruptionBudget/leafresh-feedback-api',
        'PodDisruptionBudget/leafresh-feedback-sqs-bridge',
        'PodDisruptionBudget/leafresh-feedback-worker',
        'PrometheusRule/leafresh-feedback-alerts',
        'ScaledObject/leafresh-feedback-worker',
        'Service/leafresh-feedback-api',
        'Service/leafresh-feedback-sqs-bridge-metrics',
        'Service/leafresh-feedback-worker-metrics',
        'ServiceAccount/leafresh-feedback-api',
        'ServiceAccount/leafresh-feedback-sqs-bridge',
        'ServiceAccount/leafresh-feedback-worker',
        'ServiceMonitor/leafresh-feedback-api',
        'ServiceMonitor/leafresh-feedback-sqs-bridge',
        'ServiceMonitor/leafresh-feedback-worker',
        'TriggerAuthentication/leafresh-feedback-worker',
      ].sort(),
    );
  });

  it('runs one Deployment per process with the command of its package.json start script', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const variant of VARIANT_NAMES) {
      const objects = rendered(variant);
      expect(
        find(objects, 'Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual(PROCESS_NAMES.map(nameOf));
      for (const process of PROCESS_NAMES) {
        const container = containerOf(deploymentOf(objects, process));
        expect({ variant, process, command: container.command }).toEqual({
          variant,
          process,
          command: scripts[PROCESSES[process].script].split(/\s+/),
        });
        expect(container.image).toMatch(/^[\w./-]+:[\w.-]+$/);
      }
    }
  });

  it.each(VARIANT_NAMES)(
    'gives every container (%s) only variables the config schema or the AWS SDK reads',
    (variant) => {
      const objects = rendered(variant);
      for (const process of PROCESS_NAMES) {
        expect({ process, unknown: unknownVariables(environmentOf(objects, process)) }).toEqual({
          process,
          unknown: [],
        });
      }
    },
  );

  it('the variable check catches a setting the schema does not know (negative check)', () => {
    const objects = render({
      release: RELEASE,
      set: { 'config.API_PROT': '8000', 'worker.env.WORKER_MAX_SLOTS': '3' },
    });
    expect(unknownVariables(environmentOf(objects, 'api'))).toEqual(['API_PROT']);
    expect(unknownVariables(environmentOf(objects, 'worker'))).toEqual(['API_PROT', 'WORKER_MAX_SLOTS']);
  });

  it.each(VARIANT_NAMES)('lets each process (%s) load its configuration with all it requires', (variant) => {
    const objects = rendered(variant);
    for (const process of PROCESS_NAMES) {
      expect(requirementsFor(objects, process).length).toBeGreaterThan(0);
      expect({ process, problems: configProblems(objects, process) }).toEqual({ process, problems: [] });
    }
  });

  it('the start check catches a process that would stop at start (negative check)', () => {
    const objects = render({ release: RELEASE, set: { 'config.DELIVERY_MODE': 'callback' } });
    expect(configProblems(objects, 'worker')).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
    ]);
    expect(configProblems(objects, 'sqs-bridge')).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
    ]);
    const noQueue = render({ release: RELEASE, set: { 'config.AWS_SQS_FEEDBACK_DLQ_URL': '' } });
    expect(configProblems(noQueue, 'sqs-bridge')).toEqual([
      'AWS_SQS_FEEDBACK_DLQ_URL: required for this process',
    ]);
  });

  it('passes settings through as the process reads them (numbers unchanged, secrets from Secrets)', () => {
    const objects = rendered('callback delivery with signing and vLLM key');
    const worker = configOf(objects, 'worker');
    expect(worker.worker.maxConcurrentActivities).toBe(64);
    expect(configOf(objects, 'sqs-bridge').bridge.maxOpenQueueRuns).toBe(1_000_000);
    expect(worker.policy.deliveryMode).toBe('callback');
    expect(worker.delivery).toMatchObject({ callbackBaseUrl: 'https://be.leafresh.example' });
    const env = containerOf(deploymentOf(objects, 'worker')).env ?? [];
    for (const name of ['BE_CALLBACK_AUTHORIZATION', 'BE_CALLBACK_SIGNING_SECRET', 'VLLM_API_KEY']) {
      expect(env.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name).toEqual(expect.any(String));
    }
    // Only the worker gets the worker's secrets.
    for (const process of ['api', 'sqs-bridge'] as const) {
      const names = (containerOf(deploymentOf(objects, process)).env ?? []).map((e) => e.name);
      expect(names).not.toContain('VLLM_API_KEY');
      expect(names).not.toContain('BE_CALLBACK_AUTHORIZATION');
    }
  });

  it('refuses secrets in settings, an authenticated API without its Secret, and workers scaled to zero', () => {
    const fails = (set: RenderOptions['set'], message: RegExp) =>
      expect(() => render({ release: RELEASE, set })).toThrow(message);
    fails({ 'config.API_AUTH_TOKEN': 'x'.repeat(32) }, /config\.API_AUTH_TOKEN: a secret/);
    fails({ 'worker.env.VLLM_API_KEY': 'x' }, /worker\.env\.VLLM_API_KEY: a secret/);
    fails({ 'config.API_PORT': '9000' }, /config\.API_PORT: set by the chart/);
    fails({ 'api.auth.mode': 'bearer' }, /api\.auth\.mode=bearer needs secrets\.apiAuth\.name/);
    fails(
      { 'api.auth.mode': 'hmac', 'secrets.apiAuth.name': 'a', 'serviceMonitor.enabled': true },
      /Prometheus cannot send/,
    );
    fails({ 'autoscaling.keda.enabled': true, 'autoscaling.keda.minReplicas': 0 }, /minReplicas: at least 1/);
  });

  it.each(VARIANT_NAMES)('probes (%s) /health and /ready on the port each process listens on', (variant) => {
    const objects = rendered(variant);
    for (const process of PROCESS_NAMES) {
      const container = containerOf(deploymentOf(objects, process));
      const listening = PROCESSES[process].port(configOf(objects, process));
      const portOf = (port: number | string | undefined) =>
        typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
      const probes = {
        startup: container.startupProbe?.httpGet,
        liveness: container.livenessProbe?.httpGet,
        readiness: container.readinessProbe?.httpGet,
      };
      expect({
        process,
        paths: [probes.startup?.path, probes.liveness?.path, probes.readiness?.path],
      }).toEqual({
        process,
        paths: ['/health', '/health', '/ready'],
      });
      for (const probe of Object.values(probes)) {
        expect({ process, port: portOf(probe?.port) }).toEqual({ process, port: listening });
      }
    }
    const api = containerOf(deploymentOf(objects, 'api'));
    const service = one(objects, 'Service', nameOf('api')) as K8sObject & {
      spec: { type: string; ports: { targetPort: string | number; nodePort?: number }[] };
    };
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports.map((p) => p.nodePort)).toEqual([undefined]);
    expect(api.ports?.find((p) => p.name === service.spec.ports[0].targetPort)?.containerPort).toBe(
      configOf(objects, 'api').api.port,
    );
  });

  it('follows a changed port in the probes, the Service and the network policy', () => {
    const objects = render({ release: RELEASE, set: { 'api.port': 9000, 'bridge.healthPort': 9091 } });
    expect(configOf(objects, 'api').api.port).toBe(9000);
    expect(containerOf(deploymentOf(objects, 'api')).ports?.[0]).toMatchObject({
      name: 'http',
      containerPort: 9000,
    });
    expect(configOf(objects, 'sqs-bridge').health.bridgePort).toBe(9091);
    expect(containerOf(deploymentOf(objects, 'sqs-bridge')).ports?.[0].containerPort).toBe(9091);
    const policy = one(objects, 'NetworkPolicy', nameOf('api')).spec as {
      ingress: { ports: { port: string }[] }[];
    };
    expect(policy.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 'http' }]);
    // Port 0 (a free port, for local runs) cannot be probed.
    expect(() => render({ release: RELEASE, set: { 'worker.healthPort': 0 } })).toThrow(
      /worker\.healthPort: a fixed port/,
    );
  });

  it('gives the bridge and the worker more time than their own shutdown bound, the API more than its preStop sleep', () => {
    const bound = /export function onShutdown\([^{]*timeoutMs = ([\d_]+)\)/.exec(
      read('src/shared/process.ts'),
    );
    expect(bound).not.toBeNull();
    const boundSeconds = Number(bound![1].replace(/_/g, '')) / 1000;
    for (const variant of VARIANT_NAMES) {
      const objects = rendered(variant);
      for (const process of ['sqs-bridge', 'worker'] as const) {
        const grace = deploymentOf(objects, process).spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
        expect({ process, grace }).toEqual({ process, grace: expect.any(Number) });
        expect(grace).toBeGreaterThan(boundSeconds);
      }
      const api = deploymentOf(objects, 'api').spec?.template.spec;
      const preStop = api?.containers[0].lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(preStop).toBeGreaterThan(0);
      expect(api?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + 10);
    }
  });

  it.each(VARIANT_NAMES)(
    'runs every pod (%s) non-root on a read-only root file system, with memory limits',
    (variant) => {
      const objects = rendered(variant);
      for (const process of PROCESS_NAMES) {
        const pod = deploymentOf(objects, process).spec?.template.spec;
        expect(pod?.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 1000,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod?.automountServiceAccountToken).toBe(false);
        const container = pod!.containers[0];
        expect(container.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources?.requests).toMatchObject({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(container.resources?.limits).toMatchObject({ memory: expect.any(String) });
      }
    },
  );

  it('gives each process its own ServiceAccount and PodDisruptionBudget; on EKS each its own IAM role', () => {
    const roles = new Set<string>();
    for (const variant of ['default', 'eks']) {
      const objects = rendered(variant);
      for (const process of PROCESS_NAMES) {
        const deployment = deploymentOf(objects, process);
        const sa = one(objects, 'ServiceAccount', deployment.spec!.template.spec!.serviceAccountName!);
        expect(sa.metadata.labels?.['app.kubernetes.io/component']).toBe(process);
        const pdb = one(objects, 'PodDisruptionBudget', nameOf(process)) as K8sObject & {
          spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
        };
        expect(pdb.spec.maxUnavailable).toBe(1);
        for (const other of PROCESS_NAMES) {
          expect(matches(pdb.spec.selector.matchLabels, podLabels(deploymentOf(objects, other)))).toBe(
            other === process,
          );
        }
        const role = sa.metadata.annotations?.['eks.amazonaws.com/role-arn'];
        if (variant === 'eks') {
          expect(role).toMatch(/^arn:aws:iam::\d{12}:role\/.+/);
          roles.add(role!);
        } else {
          expect(role).toBeUndefined();
        }
      }
    }
    expect(roles.size).toBe(3);
  });

  it('admits only the BE to the API by default: cluster-internal Service, NetworkPolicy on the API pods, no authentication', () => {
    for (const variant of ['default', 'eks']) {
      const objects = rendered(variant);
      expect(configOf(objects, 'api').api.auth).toEqual({ mode: 'none' });
      const policy = one(objects, 'NetworkPolicy', nameOf('api')) as K8sObject & {
        spec: {
          podSelector: { matchLabels: Record<string, string> };
          policyTypes: string[];
          ingress: { from: Record<string, unknown>[]; ports: { port: string | number }[] }[];
        };
      };
      for (const process of PROCESS_NAMES) {
        expect(matches(policy.spec.podSelector.matchLabels, podLabels(deploymentOf(objects, process)))).toBe(
          process === 'api',
        );
      }
      expect(policy.spec.policyTypes).toEqual(['Ingress']);
      const [rule, ...others] = policy.spec.ingress;
      expect(others).toEqual([]);
      expect(rule.from[0]).toEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'leafresh-be' } },
        podSelector: { matchLabels: { app: 'leafresh-be' } },
      });
      const api = containerOf(deploymentOf(objects, 'api'));
      expect(rule.ports.map((p) => api.ports?.find((q) => q.name === p.port)?.containerPort)).toEqual([
        configOf(objects, 'api').api.port,
      ]);
    }
    // Nothing may reach the API when no client is listed.
    const closed = render({ release: RELEASE, set: { 'networkPolicy.apiClients': null } });
    expect((one(closed, 'NetworkPolicy', nameOf('api')).spec as { ingress: unknown[] }).ingress).toEqual([]);
  });

  it('renders an API-only release for other callers: bearer, its own Service and policy, no bridge or worker', () => {
    const objects = render({
      release: 'feedback-admin',
      set: {
        'bridge.enabled': false,
        'worker.enabled': false,
        'api.auth.mode': 'bearer',
        'secrets.apiAuth.name': 'feedback-admin-token',
        'autoscaling.keda.enabled': true,
        'serviceMonitor.enabled': true,
      },
    });
    const name = 'feedback-admin-leafresh-feedback';
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        `ConfigMap/${name}-config`,
        `Deployment/${name}-api`,
        `NetworkPolicy/${name}-api`,
        `PodDisruptionBudget/${name}-api`,
        `Service/${name}-api`,
        `ServiceAccount/${name}-api`,
        `ServiceMonitor/${name}-api`,
      ].sort(),
    );
    for (const object of objects) expect(() => validate(object)).not.toThrow();
    expect(unknownFields(objects)).toEqual([]);
    const api = containerOf(one<RenderedDeployment>(objects, 'Deployment', `${name}-api`));
    const config = loadConfig(containerEnvironment(api, objects), requirementsOf(read(entryPointOf(api))));
    expect(config.api.auth).toEqual({ mode: 'bearer', token: expect.any(String) });
  });

  it('runs a fixed number of workers without KEDA, and no ScaledObject', () => {
    const objects = rendered('default');
    expect(find(objects, 'ScaledObject')).toEqual([]);
    expect(deploymentOf(objects, 'worker').spec?.replicas).toBeGreaterThanOrEqual(1);
    expect(deploymentOf(objects, 'sqs-bridge').spec?.replicas).toBeGreaterThanOrEqual(2);
  });

  it.each(['eks', 'Temporal mTLS with KEDA'])(
    'scales the workers (%s) on the workflow task queue only, never the LLM task queue, floor 1',
    (variant) => {
      const objects = rendered(variant);
      expect(scaledObjectProblems(objects)).toEqual([]);
      // KEDA owns the worker count; the bridges stay fixed.
      expect(deploymentOf(objects, 'worker').spec?.replicas).toBeUndefined();
      expect(deploymentOf(objects, 'sqs-bridge').spec?.replicas).toBe(2);
      const so = one(objects, 'ScaledObject', nameOf('worker')) as K8sObject & { spec: ScaledObjectSpec };
      expect(so.spec.minReplicaCount).toBe(1);
      expect(so.spec.maxReplicaCount).toBeGreaterThan(1);
      // KEDA authenticates with the processes' own credentials.
      const auth = one(
        objects,
        'TriggerAuthentication',
        so.spec.triggers[0].authenticationRef!.name,
      ) as K8sObject & {
        spec: { secretTargetRef: { parameter: string; name: string; key: string }[] };
      };
      const refs = Object.fromEntries(
        auth.spec.secretTargetRef.map((r) => [r.parameter, `${r.name}/${r.key}`]),
      );
      const worker = containerOf(deploymentOf(objects, 'worker'));
      if (variant === 'eks') {
        const apiKey = worker.env?.find((e) => e.name === 'TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef;
        expect(refs).toEqual({ apiKey: `${apiKey?.name}/${apiKey?.key}` });
      } else {
        expect(refs).toEqual({
          cert: 'temporal-client/tls.crt',
          key: 'temporal-client/tls.key',
          ca: 'temporal-client/ca.crt',
        });
      }
    },
  );

  it('the scaling check catches a ScaledObject on the LLM task queue (negative check)', () => {
    const objects = structuredClone(rendered('eks'));
    const so = one(objects, 'ScaledObject', nameOf('worker')) as K8sObject & { spec: ScaledObjectSpec };
    so.spec.triggers[0].metadata.taskQueue = 'leafresh-feedback-llm';
    so.spec.minReplicaCount = 0;
    expect(scaledObjectProblems(objects)).toEqual([
      'may scale the workers to zero',
      'task queue leafresh-feedback-llm, not the workflow task queue leafresh-feedback',
      'scales on the LLM task queue leafresh-feedback-llm',
    ]);
  });

  it('mounts the Temporal mTLS files where TEMPORAL_TLS_*_PATH point, read-only, in every process', () => {
    const objects = rendered('Temporal mTLS with KEDA');
    for (const process of PROCESS_NAMES) {
      const deployment = deploymentOf(objects, process);
      const container = containerOf(deployment);
      const tls = configOf(objects, process).temporal.tls;
      const mount = container.volumeMounts?.find((m) => m.name === 'temporal-tls');
      const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'temporal-tls');
      expect(mount?.readOnly).toBe(true);
      expect(volume?.secret?.secretName).toBe('temporal-client');
      const files = (volume?.secret?.items ?? []).map((i) => `${mount?.mountPath}/${i.path}`);
      expect([tls?.certPath, tls?.keyPath, tls?.caPath].sort()).toEqual(files.sort());
    }
  });

  it('scrapes /metrics of the three processes, the API with its bearer token when it has one', () => {
    const objects = rendered('bearer API with ServiceMonitors');
    for (const process of PROCESS_NAMES) {
      const monitor = one(objects, 'ServiceMonitor', nameOf(process)) as K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: {
            port: string;
            path: string;
            authorization?: { credentials: { name: string; key: string } };
          }[];
        };
      };
      const services = find(objects, 'Service').filter((s) =>
        matches(monitor.spec.selector.matchLabels, s.metadata.labels),
      );
      expect(services).toHaveLength(1);
      const service = services[0] as K8sObject & {
        spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
      };
      const deployment = deploymentOf(objects, process);
      expect(matches(service.spec.selector, podLabels(deployment))).toBe(true);
      const [endpoint] = monitor.spec.endpoints;
      expect(endpoint.path).toBe('/metrics');
      const target = service.spec.ports.find((p) => p.name === endpoint.port)?.targetPort;
      const port = containerOf(deployment).ports?.find((p) => p.name === target)?.containerPort;
      expect({ process, port }).toEqual({
        process,
        port: PROCESSES[process].port(configOf(objects, process)),
      });
      if (process === 'api') {
        expect(endpoint.authorization?.credentials).toEqual({
          name: 'feedback-api-auth',
          key: 'API_AUTH_TOKEN',
        });
      } else {
        expect(endpoint.authorization).toBeUndefined();
      }
    }
    // HMAC cannot be scraped: without the API's ServiceMonitor, the others stay.
    expect(find(rendered('HMAC API'), 'ServiceMonitor').map((m) => m.metadata.name)).toEqual([
      nameOf('sqs-bridge'),
      nameOf('worker'),
    ]);
  });

  it.each([
    [
      'worker.replica=5',
      ['--set', 'worker.replica=5'],
      /at '\/worker': additional properties 'replica' not allowed/,
    ],
    [
      'api.auth.mode=bearr',
      ['--set', 'api.auth.mode=bearr'],
      /at '\/api\/auth\/mode': value must be one of 'none', 'bearer', 'hmac'/,
    ],
    [
      'api.replicas=two (--set-string)',
      ['--set-string', 'api.replicas=two'],
      /at '\/api\/replicas': got string, want integer/,
    ],
    [
      'setup.namespaceRetention=5w',
      ['--set', 'setup.namespaceRetention=5w'],
      /at '\/setup\/namespaceRetention': .*does not match pattern/,
    ],
    [
      'an unknown top-level key',
      ['--set', 'workers.replicas=2'],
      /additional properties 'workers' not allowed/,
    ],
  ])('refuses %s in helm lint and helm template (values.schema.json)', (_label, args, message) => {
    const lint = () => helm(['lint', CHART, '--strict', '--kube-version', KUBE_VERSION, ...args]);
    const template = () => helm(['template', RELEASE, CHART, '--kube-version', KUBE_VERSION, ...args]);
    expect(lint).toThrow(message);
    expect(template).toThrow(message);
  });

  it('gives long release names (44-53 characters) distinct object names of at most 63 characters', () => {
    for (const length of [44, 48, 53]) {
      const release = `r${'x'.repeat(length - 1)}`;
      const objects = render({
        release,
        valuesFiles: ['values-eks.yaml'],
        set: { 'networkPolicy.egress.enabled': true },
      });
      const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(names).size).toBe(names.length);
      for (const object of objects) {
        expect(object.metadata.name.length).toBeLessThanOrEqual(63);
        expect(object.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(() => validate(object)).not.toThrow();
      }
      const deployments = find(objects, 'Deployment').map((d) => d.metadata.name);
      expect(deployments.map((n) => n.slice(n.lastIndexOf('-') + 1)).sort()).toEqual([
        'api',
        'bridge',
        'worker',
      ]);
      // The Service the BE calls and the object KEDA scales keep their process's name.
      const so = one(
        objects,
        'ScaledObject',
        deployments.find((n) => n.endsWith('-worker'))!,
      ) as K8sObject & {
        spec: ScaledObjectSpec;
      };
      expect(so.spec.scaleTargetRef.name).toBe(so.metadata.name);
      expect(unknownFields(objects)).toEqual([]);
    }
  });

  it('spreads each process softly over nodes by default, selecting only its own pods of this release', () => {
    for (const variant of VARIANT_NAMES) {
      const objects = rendered(variant);
      for (const process of PROCESS_NAMES) {
        const pod = deploymentOf(objects, process).spec!.template;
        const [spread, ...others] = pod.spec?.topologySpreadConstraints ?? [];
        expect(others).toEqual([]);
        expect(spread).toMatchObject({
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
        });
        const selector = spread.labelSelector?.matchLabels ?? {};
        expect(selector['app.kubernetes.io/instance']).toBe(RELEASE);
        for (const other of PROCESS_NAMES) {
          expect(matches(selector, podLabels(deploymentOf(objects, other)))).toBe(other === process);
        }
      }
    }
    // A process's own affinity or constraints replace the default; off for all with topologySpread.enabled=false.
    const own = render({
      release: RELEASE,
      set: { 'api.affinity.podAntiAffinity.x': 'y', 'topologySpread.enabled': true },
    });
    expect(deploymentOf(own, 'api').spec?.template.spec?.topologySpreadConstraints).toBeUndefined();
    expect(deploymentOf(own, 'worker').spec?.template.spec?.topologySpreadConstraints).toHaveLength(1);
    const off = render({ release: RELEASE, set: { 'topologySpread.enabled': false } });
    for (const process of PROCESS_NAMES) {
      expect(deploymentOf(off, process).spec?.template.spec?.topologySpreadConstraints).toBeUndefined();
    }
  });

  it('allows, with networkPolicy.egress.enabled, only DNS, Temporal, 443, vLLM and the BE from the release pods', () => {
    expect(find(rendered('default'), 'NetworkPolicy').map((p) => p.metadata.name)).toEqual([nameOf('api')]);
    const objects = rendered('egress rules, CA-only Temporal TLS with KEDA');
    const policy = one(objects, 'NetworkPolicy', `${RELEASE}-egress`) as K8sObject & {
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        egress: { ports: { protocol: string; port: number }[]; to?: Record<string, unknown>[] }[];
      };
    };
    expect(policy.spec.policyTypes).toEqual(['Egress']);
    for (const process of PROCESS_NAMES) {
      expect(matches(policy.spec.podSelector.matchLabels, podLabels(deploymentOf(objects, process)))).toBe(
        true,
      );
    }
    expect(policy.spec.podSelector.matchLabels['app.kubernetes.io/instance']).toBe(RELEASE);
    const ports = policy.spec.egress.map((r) => r.ports.map((p) => `${p.protocol}/${p.port}`).join(' '));
    const worker = configOf(objects, 'worker');
    const temporalPort = Number(worker.temporal.address.split(':').pop());
    const vllmPort = Number(new URL(environmentOf(objects, 'worker').VLLM_API_URL).port);
    expect(ports).toEqual(['UDP/53 TCP/53', `TCP/${temporalPort}`, 'TCP/443', `TCP/${vllmPort}`, 'TCP/443']);
    expect(policy.spec.egress[2].to).toBeUndefined();
    // Extra rules are appended as given.
    const extra = render({
      release: RELEASE,
      set: { 'networkPolicy.egress.enabled': true, 'networkPolicy.egress.extra[0].ports[0].port': 5432 },
    });
    const withExtra = one(extra, 'NetworkPolicy', `${RELEASE}-egress`);
    expect(() => validate(withExtra)).not.toThrow();
    expect((withExtra.spec as { egress: unknown[] }).egress).toHaveLength(6);
  });

  it('tells KEDA how the processes use TLS (enableTLS), and authenticates with the CA only when there is no client certificate', () => {
    const trigger = (objects: K8sObject[]) =>
      (one(objects, 'ScaledObject', nameOf('worker')) as K8sObject & { spec: ScaledObjectSpec }).spec
        .triggers[0];
    // A self-hosted server without TLS: KEDA 2.17.2+ must not turn TLS on.
    const plain = render({ release: RELEASE, set: { 'autoscaling.keda.enabled': true } });
    expect(configOf(plain, 'worker').temporal.tls).toBeUndefined();
    expect(trigger(plain).metadata.enableTLS).toBe('false');
    expect(trigger(plain).authenticationRef).toBeUndefined();
    expect(trigger(rendered('eks')).metadata.enableTLS).toBe('true');
    expect(trigger(rendered('Temporal mTLS with KEDA')).metadata.enableTLS).toBe('true');
    const forced = render({
      release: RELEASE,
      set: {
        'autoscaling.keda.enabled': true,
        'autoscaling.keda.enableTLS': 'true',
        'config.TEMPORAL_TLS': 'false',
      },
    });
    expect(trigger(forced).metadata.enableTLS).toBe('true');
    // TLS without a client certificate: the CA only, for KEDA and the processes alike.
    const caOnly = rendered('egress rules, CA-only Temporal TLS with KEDA');
    expect(trigger(caOnly).metadata.enableTLS).toBe('true');
    const auth = one(
      caOnly,
      'TriggerAuthentication',
      trigger(caOnly).authenticationRef!.name,
    ) as K8sObject & {
      spec: { secretTargetRef: { parameter: string; name: string; key: string }[] };
    };
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'ca', name: 'temporal-ca', key: 'ca.crt' }]);
    for (const process of PROCESS_NAMES) {
      expect(configOf(caOnly, process).temporal.tls).toEqual({ caPath: '/etc/leafresh/temporal-tls/ca.crt' });
    }
    // TLS on with nothing for KEDA to present, or a CA-only Secret without its CA: refused.
    expect(() =>
      render({ release: RELEASE, set: { 'autoscaling.keda.enabled': true, 'config.TEMPORAL_TLS': 'true' } }),
    ).toThrow(/config\.TEMPORAL_TLS=true with KEDA but no credentials/);
    expect(() =>
      render({
        release: RELEASE,
        set: {
          'autoscaling.keda.enabled': true,
          'secrets.temporalTls.name': 'temporal-ca',
          'secrets.temporalTls.certKey': '',
          'secrets.temporalTls.keyKey': '',
        },
      }),
    ).toThrow(/need caKey/);
  });

  it('notes that EKS enforces NetworkPolicy only with enableNetworkPolicy, and warns when no scraper may reach the API', () => {
    const notes = (args: string[]) => {
      // NOTES.txt is rendered by install only; --dry-run=client needs no cluster.
      const out = helm(['install', RELEASE, CHART, '--dry-run=client', ...args]);
      return out.slice(out.indexOf('NOTES:'));
    };
    const warning = /WARNING: serviceMonitor\.enabled=true but networkPolicy\.metricsScrapers is empty/;
    const eks = notes(['-f', `${CHART}/values-eks.yaml`]);
    expect(eks).toMatch(/enableNetworkPolicy/);
    expect(eks).not.toMatch(warning);
    expect(read(`${CHART}/values-eks.yaml`)).toMatch(/enableNetworkPolicy/);
    expect(read(`${CHART}/values-eks.yaml`)).toMatch(/KEDA 2\.17\.2/);
    expect(notes(['--set', 'serviceMonitor.enabled=true'])).toMatch(warning);
    expect(notes([])).not.toMatch(warning);
    expect(
      notes(['--set', 'serviceMonitor.enabled=true', '--set', 'serviceMonitor.scrapeApi=false']),
    ).not.toMatch(warning);
  });

  it('runs `feedback setup` as an optional pre-install/pre-upgrade hook Job, off by default', () => {
    for (const variant of ['default', 'eks']) expect(find(rendered(variant), 'Job')).toEqual([]);
    const objects = rendered('setup hook Job with Temporal mTLS and an API key');
    const job = one<K8sObject & IJob>(objects, 'Job', `${RELEASE}-setup`);
    expect(() => validate(job)).not.toThrow();
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const pod = job.spec?.template.spec;
    expect(pod?.restartPolicy).toBe('Never');
    // Hooks run before the release's ServiceAccounts and ConfigMap exist: none of them is used.
    expect(pod?.serviceAccountName).toBe('default');
    const container = pod?.containers[0];
    if (!container) throw new Error('the setup Job has no container');
    expect(container.image).toBe(containerOf(deploymentOf(objects, 'worker')).image);
    expect(container.command).toEqual(['node', 'dist/src/cli/feedback.js', 'setup', '--wait', '90']);
    expect(container.envFrom).toBeUndefined();
    expect(entryPointOf(container)).toBe('src/cli/feedback.ts');
    // Its settings are the processes' Temporal ones, and they load.
    const env = containerEnvironment(container, objects);
    const worker = environmentOf(objects, 'worker');
    for (const name of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_API_KEY',
      'TEMPORAL_TLS_CERT_PATH',
    ])
      expect({ name, value: env[name] }).toEqual({ name, value: worker[name] });
    expect(unknownVariables(env)).toEqual([]);
    expect(loadConfig(env).temporal.namespaceRetentionSeconds).toBe(7 * 86_400);
    expect(container.volumeMounts).toEqual(containerOf(deploymentOf(objects, 'worker')).volumeMounts);
  });

  it('documents every value of values.yaml in the chart README, and only those', () => {
    const FREE_FORM = new Set([
      'config',
      'env',
      'resources',
      'annotations',
      'podAnnotations',
      'podLabels',
      'nodeSelector',
      'affinity',
      'labels',
      'podSecurityContext',
      'securityContext',
    ]);
    const paths = (value: unknown, prefix: string): string[] =>
      value && typeof value === 'object' && !Array.isArray(value) && !FREE_FORM.has(prefix.split('.').pop()!)
        ? Object.entries(value).flatMap(([k, v]) => paths(v, prefix ? `${prefix}.${k}` : k))
        : [prefix];
    const values = parse(read(`${CHART}/values.yaml`)) as Record<string, unknown>;
    const inValues = new Set(paths(values, ''));
    const readme = read(`${CHART}/README.md`);
    const table = readme.slice(readme.indexOf('## Values'));
    const documented = new Set<string>();
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      const keys = [...row.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      let base = '';
      for (const key of keys) {
        const full = key.startsWith('.') ? `${base}${key}` : key;
        base = full.slice(0, full.lastIndexOf('.'));
        for (const process of ['api', 'bridge', 'worker']) documented.add(full.replace('<process>', process));
      }
    }
    const undocumented = [...inValues].filter((p) => !documented.has(p));
    const stale = [...documented].filter((p) => !inValues.has(p));
    expect({ undocumented, stale }).toEqual({ undocumented: [], stale: [] });
  });
});
