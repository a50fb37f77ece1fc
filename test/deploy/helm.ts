/**
 * What the chart checks need without a cluster: helm (lint, template) from .tools/bin, the rendered
 * objects parsed, validated against the Kubernetes, KEDA and prometheus-operator schemas
 * (kubernetes-models), checked for fields those schemas do not define (the TypeScript types of the same
 * models: the schemas themselves accept unknown fields), and each container's environment as its
 * process would see it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { ROOT } from './compose';

export const CHART = 'deploy/helm/leafresh-feedback';
export const HELM = join(ROOT, '.tools', 'bin', 'helm');
/** The chart's lowest supported Kubernetes (Chart.yaml kubeVersion); a `go install`ed helm assumes 1.20. */
export const KUBE_VERSION = '1.30.0';

/** A rendered object: kind, apiVersion, metadata and the rest as parsed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function requireHelm(): string {
  if (!existsSync(HELM)) {
    throw new Error(
      `helm is not installed at ${HELM}: run \`bash scripts/ensure-helm.sh\` (installs helm v4.1.4 into .tools/bin)`,
    );
  }
  return HELM;
}

/** Runs helm in the repository; a failure throws with helm's own message. */
export function helm(args: string[]): string {
  try {
    return execFileSync(requireHelm(), args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    // helm lint reports the problems on stdout and only the count on stderr: both are kept.
    const output = [stdout, stderr].filter(Boolean).join('\n') || String(err);
    throw new Error(`helm ${args.join(' ')} failed: ${output.trim()}`, {
      cause: err,
    });
  }
}

export interface RenderOptions {
  /** Values files relative to the chart, e.g. values-eks.yaml. */
  valuesFiles?: string[];
  /** Assignments: strings with `--set-string`, booleans, numbers and null (removes the key) with `--set`. */
  set?: Record<string, string | boolean | number | null>;
  release?: string;
  namespace?: string;
}

/** `helm template` of the chart, parsed into its objects. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const args = ['template', options.release ?? 'leafresh-feedback', CHART, '--kube-version', KUBE_VERSION];
  args.push('--namespace', options.namespace ?? 'leafresh-ai');
  for (const file of options.valuesFiles ?? []) args.push('-f', join(CHART, file));
  for (const [key, value] of Object.entries(options.set ?? {})) {
    args.push(typeof value === 'string' ? '--set-string' : '--set', `${key}=${String(value)}`);
  }
  return parseManifests(helm(args));
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
    const value = doc.toJS() as K8sObject | null;
    return value === null ? [] : [value];
  });
}

/** The model classes of every kind the chart may render (the monitoring objects included). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** The module that defines a kind's model (and its TypeScript interface `I<Kind>`). */
export function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return group === ''
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
}

/** Validates one object against its schema; throws on a violation or a kind without a model. */
export function validate(object: K8sObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    throw new Error(
      `${object.apiVersion} ${object.kind}: no schema known; add its model to MODELS in test/deploy/helm.ts`,
    );
  }
  try {
    new Model(object as never).validate();
  } catch (err) {
    throw new Error(`${object.kind} ${object.metadata?.name}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Fields the models' types do not define (a misspelt `readinesProbe` passes the schemas, which allow
 * unknown properties): each object type-checked as an object literal of its model's interface, whose
 * excess-property check reports them (the first one of each object). Returns one line per problem.
 */
export function unknownFields(objects: K8sObject[]): string[] {
  const file = join(ROOT, 'test', 'deploy', '__rendered_objects__.ts');
  const lines = objects.map((o, i) => {
    const iface = `I${o.kind}`;
    return `import type { ${iface} as T${i} } from '${modelModule(o.apiVersion, o.kind)}';\nexport const o${i}: T${i} = ${JSON.stringify(o)};`;
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.getSourceFile;
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : readFile(name, language, ...rest);
  const fileExists = host.fileExists;
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
    const index = d.start === undefined ? -1 : source.slice(0, d.start).split('\n').length - 1;
    const object = objects[Math.floor(index / 2)];
    const where = object ? `${object.kind} ${object.metadata.name}` : 'rendered objects';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as T;
}

export type RenderedDeployment = K8sObject & IDeployment;

export function containerOf(deployment: RenderedDeployment): IContainer {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`${deployment.metadata.name}: expected one container`);
  return containers[0];
}

/**
 * Plausible values of the right length for the secrets a container takes from Secrets (the schema's
 * minimum lengths: API token 16, HMAC and signing secrets 32).
 */
export const SECRET_DUMMIES: Record<string, string> = {
  API_AUTH_TOKEN: 't'.repeat(32),
  API_AUTH_HMAC_SECRET: 'h'.repeat(64),
  BE_CALLBACK_AUTHORIZATION: `Bearer ${'b'.repeat(32)}`,
  BE_CALLBACK_SIGNING_SECRET: 's'.repeat(64),
  VLLM_API_KEY: 'v'.repeat(32),
  TEMPORAL_API_KEY: 'k'.repeat(64),
};

/**
 * A container's environment as its process sees it: the ConfigMaps of `envFrom` (rendered in the same
 * release), then `env` (which wins), Secrets' values replaced by SECRET_DUMMIES.
 */
export function containerEnvironment(container: IContainer, objects: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name || source.secretRef || source.prefix)
      throw new Error(`unsupported envFrom: ${JSON.stringify(source)}`);
    const configMap = one(objects, 'ConfigMap', name) as K8sObject & { data?: Record<string, string> };
    Object.assign(env, configMap.data ?? {});
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value;
    } else if (variable.valueFrom?.secretKeyRef) {
      const dummy = SECRET_DUMMIES[variable.name];
      if (dummy === undefined)
        throw new Error(`${variable.name}: from a Secret, but no dummy value in SECRET_DUMMIES`);
      env[variable.name] = dummy;
    } else {
      throw new Error(`${variable.name}: unsupported source ${JSON.stringify(variable.valueFrom)}`);
    }
  }
  return env;
}

/** The entry point a container runs (`node [flags] dist/src/<x>.js` -> `src/<x>.ts`). */
export function entryPointOf(container: IContainer): string {
  const file = (container.command ?? []).find((arg) => /^dist\/src\/.+\.js$/.test(arg));
  if (!file) throw new Error(`${container.name}: no dist/src/*.js in its command`);
  return file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}
