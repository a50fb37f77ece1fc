/**
 * docker-compose.yml checked without a Docker engine: it parses, has the stack the design needs, hands
 * each process settings the config schema knows and everything the process requires (with and without
 * a .env), keeps ports, profiles and start order consistent, runs the package.json start commands,
 * takes secrets only from the environment, and passes dclint.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Requirement } from '../../src/config';
import { FEEDBACK_SEARCH_ATTRIBUTES } from '../../src/domain/workflow';
import {
  dclint,
  dependencies,
  dependencyProblems,
  interpolate,
  interpolateDeep,
  parseCompose,
  parseEnvFile,
  portProblems,
  read,
  requirementsOf,
  serviceEnvironment,
  unknownVariables,
  type ComposeFile,
  type ComposeService,
} from './compose';

const source = read('docker-compose.yml');
const raw = parseCompose(source);
const exampleEnv = parseEnvFile(read('.env.compose.example'));
/** The file as compose sees it without a .env, and with the example copied to .env. */
const withoutDotEnv = interpolateDeep(raw, {});
const withExampleDotEnv = interpolateDeep(raw, exampleEnv);

/** The app processes: the entry point each runs and the package.json script that runs it locally. */
const PROCESSES = {
  api: { main: 'src/api/main.ts', script: 'start:api' },
  'sqs-bridge': { main: 'src/sqs-bridge/main.ts', script: 'start:bridge' },
  worker: { main: 'src/worker/main.ts', script: 'start:worker' },
  'vllm-simulator': { main: 'dev/vllm-simulator/main.ts', script: 'start:vllm-sim' },
} as const;
type ProcessName = keyof typeof PROCESSES;
const PROCESS_NAMES = Object.keys(PROCESSES) as ProcessName[];

/** Settings each process needs at the least, whatever its entry point says (the list). */
const MINIMUM_REQUIREMENTS: Record<ProcessName, Requirement[]> = {
  api: ['requestQueue', 'apiAuth'],
  'sqs-bridge': ['requestQueue', 'dlq', 'delivery'],
  worker: ['delivery'],
  'vllm-simulator': [],
};

const requirements = (name: ProcessName): Requirement[] => requirementsOf(read(PROCESSES[name].main));

/** Loads the process's configuration from the service's environment; returns the problems, if any. */
function configProblems(file: ComposeFile, name: ProcessName): string[] {
  const env = Object.fromEntries(
    Object.entries(serviceEnvironment(file.services[name])).filter(([, v]) => v !== null),
  ) as Record<string, string>;
  try {
    loadConfig(env, requirements(name));
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const command = (service: ComposeService): string[] =>
  typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);

describe('docker-compose.yml', () => {
  it('parses as YAML into a compose file with a project name', () => {
    expect(raw.name).toBe('leafresh-feedback');
    expect(Object.keys(raw.services).length).toBeGreaterThan(0);
    expect(raw.version).toBeUndefined();
  });

  it('has every service of the design: Temporal with PostgreSQL and its UI, SQS emulator, vLLM, the processes', () => {
    const images = Object.fromEntries(
      Object.entries(raw.services).map(([name, s]) => [name, s.image?.split(':')[0]]),
    );
    expect(images).toEqual({
      postgresql: 'postgres',
      'temporal-schema': 'temporalio/admin-tools',
      temporal: 'temporalio/server',
      'temporal-namespace': 'leafresh-feedback-orchestrator',
      'temporal-ui': 'temporalio/ui',
      elasticmq: 'softwaremill/elasticmq-native',
      vllm: 'vllm/vllm-openai',
      'vllm-simulator': 'leafresh-feedback-orchestrator-dev-tools',
      api: 'leafresh-feedback-orchestrator',
      'sqs-bridge': 'leafresh-feedback-orchestrator',
      worker: 'leafresh-feedback-orchestrator',
    });
    // Temporal persists in PostgreSQL, with the schema set up before the server starts.
    expect(serviceEnvironment(raw.services.temporal)).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
    });
    expect(dependencies(raw.services.temporal)).toEqual({
      'temporal-schema': 'service_completed_successfully',
    });
    expect(dependencies(raw.services['temporal-schema'])).toEqual({ postgresql: 'service_healthy' });
    expect(serviceEnvironment(raw.services['temporal-ui'])).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
    });
    // The queues come preconfigured from the ElasticMQ config file.
    expect(raw.services.elasticmq.volumes).toContain(
      './infra/elasticmq/compose-queues.conf:/opt/elasticmq.conf:ro',
    );
  });

  it('pins every image to a version, and builds the app image once from this Dockerfile for its three roles', () => {
    for (const [name, service] of Object.entries(raw.services)) {
      const tag = service.image?.split(':')[1];
      if (service.build !== undefined) {
        // The simulator is a development tool: the Dockerfile's dev-tools target, its own image.
        const target = name === 'vllm-simulator' ? { target: 'dev-tools' } : {};
        expect({ name, build: service.build, pull: service.pull_policy }).toEqual({
          name,
          build: { context: '.', dockerfile: 'Dockerfile', ...target },
          pull: 'build',
        });
      } else {
        // A release number (optionally with a base-image suffix such as -bookworm), never latest.
        expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/^v?\d+\.\d+(\.\d+)*(-[a-z]+)?$/) });
      }
    }
    const appImages = new Set(
      PROCESS_NAMES.filter((n) => n !== 'vllm-simulator').map((n) => raw.services[n].image),
    );
    expect([...appImages]).toEqual(['leafresh-feedback-orchestrator:local']);
    expect(raw.services['vllm-simulator'].image).toBe('leafresh-feedback-orchestrator-dev-tools:local');
  });

  it('sets up the schema with the admin tools of the server version (the schema files come with them)', () => {
    const tag = (name: string) => raw.services[name].image?.split(':')[1];
    expect(tag('temporal-schema')).toBe(tag('temporal'));
  });

  it('registers the namespace and search attributes with `feedback setup` of the app image, after the server is healthy', () => {
    const job = raw.services['temporal-namespace'];
    expect(dependencies(job)).toEqual({ temporal: 'service_healthy' });
    expect(job.image).toBe(raw.services.worker.image);
    // The built CLI (dist/src/cli/feedback.js of src/cli/feedback.ts): the list is src/domain's.
    expect(command(job)).toEqual(['node', 'dist/src/cli/feedback.js', 'setup', '--wait', '90']);
    const env = serviceEnvironment(withoutDotEnv.services['temporal-namespace']);
    expect(env.TEMPORAL_NAMESPACE).toBe(serviceEnvironment(raw.services.worker).TEMPORAL_NAMESPACE);
    expect(env.TEMPORAL_ADDRESS).toBe(serviceEnvironment(raw.services.worker).TEMPORAL_ADDRESS);
    // Settings the config schema knows, and valid: the retention parses.
    expect(() =>
      loadConfig(
        Object.fromEntries(Object.entries(env).filter(([, v]) => v !== null)) as Record<string, string>,
      ),
    ).not.toThrow();
    expect(FEEDBACK_SEARCH_ATTRIBUTES.length).toBeGreaterThan(0);
  });

  it('gives the app services only variables the config schema (or the AWS SDK) reads', () => {
    for (const name of PROCESS_NAMES) {
      const tool = name === 'vllm-simulator';
      expect({ name, unknown: unknownVariables(raw.services[name], tool) }).toEqual({ name, unknown: [] });
    }
    // The development tools' settings are not the product's: a product service given one is flagged.
    const withToolSetting: ComposeService = {
      ...raw.services.worker,
      environment: { ...serviceEnvironment(raw.services.worker), VLLM_SIM_PORT: '8800' },
    };
    expect(unknownVariables(withToolSetting)).toEqual(['VLLM_SIM_PORT']);
  });

  it('the schema check catches a variable the schema does not know (negative check)', () => {
    const misspelt: ComposeService = {
      ...raw.services.api,
      environment: { ...serviceEnvironment(raw.services.api), API_PROT: '8000', AWS_SECRET_ACCESS_KEY: 'x' },
    };
    expect(unknownVariables(misspelt)).toEqual(['API_PROT']);
  });

  it('reads the requirements of each process from its entry point, covering at least the required settings', () => {
    for (const name of PROCESS_NAMES) {
      expect({ name, requirements: requirements(name) }).toEqual({
        name,
        requirements: expect.arrayContaining(MINIMUM_REQUIREMENTS[name]),
      });
    }
  });

  it.each([
    ['without a .env', withoutDotEnv],
    ['with .env.compose.example as .env', withExampleDotEnv],
  ])('lets every process load its configuration, with all it requires, %s', (_label, file) => {
    for (const name of PROCESS_NAMES) {
      expect({ name, problems: configProblems(file, name) }).toEqual({ name, problems: [] });
    }
  });

  it('with DELIVERY_MODE=callback, requires BE_CALLBACK_BASE_URL from .env (negative check) and accepts it', () => {
    const callbackWithoutUrl = interpolateDeep(raw, { ...exampleEnv, DELIVERY_MODE: 'callback' });
    expect(configProblems(callbackWithoutUrl, 'worker')).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
    ]);
    expect(configProblems(callbackWithoutUrl, 'sqs-bridge')).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
    ]);
    const callback = interpolateDeep(raw, {
      ...exampleEnv,
      DELIVERY_MODE: 'callback',
      BE_CALLBACK_BASE_URL: 'https://be.example',
      BE_CALLBACK_AUTHORIZATION: 'Bearer t',
    });
    expect(configProblems(callback, 'worker')).toEqual([]);
    expect(serviceEnvironment(callback.services.worker).BE_CALLBACK_AUTHORIZATION).toBe('Bearer t');
  });

  it('with API_AUTH_MODE=bearer, requires API_AUTH_TOKEN from .env (negative check) and accepts it', () => {
    const bearer = interpolateDeep(raw, { ...exampleEnv, API_AUTH_MODE: 'bearer' });
    expect(configProblems(bearer, 'api')).toEqual([
      'API_AUTH_TOKEN: required when API_AUTH_MODE=bearer (or set API_AUTH_MODE=none for a local run)',
    ]);
    const withToken = interpolateDeep(raw, {
      ...exampleEnv,
      API_AUTH_MODE: 'bearer',
      API_AUTH_TOKEN: 'x'.repeat(32),
    });
    expect(configProblems(withToken, 'api')).toEqual([]);
  });

  it('documents every variable it reads in .env.compose.example, whose values are the defaults', () => {
    const used = new Set<string>();
    interpolateDeep(raw, {}, used);
    const documented = Object.keys(exampleEnv).filter((k) => k !== 'COMPOSE_PROFILES');
    expect([...used].sort()).toEqual(documented.sort());
    // Copying the example changes nothing but the profile variable.
    expect(withExampleDotEnv).toEqual(withoutDotEnv);
  });

  it('takes secrets only from the environment (.env), never from a literal in the file', () => {
    const SECRETS = [
      'API_AUTH_TOKEN',
      'API_AUTH_HMAC_SECRET',
      'BE_CALLBACK_SIGNING_SECRET',
      'BE_CALLBACK_AUTHORIZATION',
      'VLLM_API_KEY',
      'TEMPORAL_API_KEY',
      'HUGGING_FACE_HUB_TOKEN',
      'HF_TOKEN',
    ];
    let checked = 0;
    for (const [name, service] of Object.entries(raw.services)) {
      for (const [key, value] of Object.entries(serviceEnvironment(service))) {
        if (!SECRETS.includes(key)) continue;
        checked += 1;
        expect({ name, key, value }).toEqual({
          name,
          key,
          value: expect.stringMatching(/^\$\{[A-Z_]+(:-)?\}$/),
        });
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
    // The only literal credentials are the emulator's placeholders, which ElasticMQ does not check.
    for (const name of PROCESS_NAMES.filter((n) => n !== 'vllm-simulator')) {
      const env = serviceEnvironment(raw.services[name]);
      expect([env.AWS_SECRET_ACCESS_KEY, env.AWS_ENDPOINT_URL_SQS]).toEqual([
        'local',
        'http://elasticmq:9324',
      ]);
    }
    // Database passwords: from .env, with a development default for a database without host port.
    expect(serviceEnvironment(raw.services.postgresql).POSTGRES_PASSWORD).toBe(
      '${POSTGRES_PASSWORD:-temporal}',
    );
    expect(raw.services.postgresql.ports).toBeUndefined();
  });

  it('publishes each host port once, on the loopback interface only', () => {
    expect(portProblems(raw)).toEqual([]);
    expect(Object.values(raw.services).flatMap((s) => s.ports ?? []).length).toBeGreaterThan(0);
  });

  it('the port check catches a host port published twice and an unbound one (negative check)', () => {
    const bad = structuredClone(raw);
    bad.services['temporal-ui'].ports = ['127.0.0.1:8000:8080'];
    bad.services.elasticmq.ports = ['9324:9324'];
    expect(portProblems(bad)).toEqual([
      'elasticmq: 9324:9324 is not bound to 127.0.0.1',
      'temporal-ui: host port 8000 is already published by api',
    ]);
  });

  it('keeps the worker scalable with --scale: no container name, no host port', () => {
    expect(raw.services.worker.container_name).toBeUndefined();
    expect(raw.services.worker.ports).toBeUndefined();
    for (const service of Object.values(raw.services)) expect(service.container_name).toBeUndefined();
  });

  it('depends only on services that exist and are enabled whenever the dependent is', () => {
    expect(dependencyProblems(raw)).toEqual([]);
    expect(raw.services.vllm.profiles).toEqual(['gpu']);
    const dependents = Object.entries(raw.services).filter(([, s]) => 'vllm' in dependencies(s));
    expect(dependents).toEqual([]);
  });

  it('the dependency check catches a default service waiting for the gpu vLLM (negative check)', () => {
    const bad = structuredClone(raw);
    bad.services.worker.depends_on = {
      vllm: { condition: 'service_healthy' },
      redis: { condition: 'service_started' },
    };
    expect(dependencyProblems(bad)).toEqual([
      'worker (profiles: default) depends on vllm (profiles: gpu)',
      'worker depends on redis, which does not exist',
    ]);
  });

  it('waits for health only on services with a health check, and for completion only on one-shot jobs', () => {
    for (const [name, service] of Object.entries(raw.services)) {
      for (const [dep, condition] of Object.entries(dependencies(service))) {
        const target = raw.services[dep];
        if (condition === 'service_healthy') {
          expect({
            name,
            dep,
            healthcheck: Boolean(target.healthcheck && !target.healthcheck.disable),
          }).toEqual({
            name,
            dep,
            healthcheck: true,
          });
        } else if (condition === 'service_completed_successfully') {
          expect({ name, dep, restart: target.restart }).toEqual({ name, dep, restart: undefined });
          // A one-shot setup: a script of infra/temporal, or the CLI's `setup`.
          expect(command(target).join(' ')).toMatch(
            /^\/leafresh\/setup-[a-z]+\.sh$|^node dist\/src\/cli\/feedback\.js setup\b/,
          );
        } else {
          expect({ name, dep, condition }).toEqual({ name, dep, condition: 'service_started' });
        }
      }
    }
    // The order that matters: workflows are started only once the namespace and attributes exist.
    expect(dependencies(raw.services['sqs-bridge'])['temporal-namespace']).toBe(
      'service_completed_successfully',
    );
    expect(dependencies(raw.services.worker)['temporal-namespace']).toBe('service_completed_successfully');
  });

  it('probes health only with a tool known to be in each image', () => {
    // Image -> programs its health check may run. node: our image (node:20 slim); pg_isready: the
    // postgres image; nc: BusyBox in the Alpine-based temporalio/server; python3: vllm-openai.
    const TOOLS: Record<string, string> = {
      'leafresh-feedback-orchestrator': 'node',
      'leafresh-feedback-orchestrator-dev-tools': 'node',
      postgres: 'pg_isready',
      'temporalio/server': 'nc',
      'vllm/vllm-openai': 'python3',
    };
    for (const [name, service] of Object.entries(raw.services)) {
      if (!service.healthcheck) continue;
      const test = service.healthcheck.test;
      expect(Array.isArray(test) && test[0] === 'CMD').toBe(true);
      const image = service.image?.split(':')[0] ?? '';
      expect({ name, tool: (test as string[])[1] }).toEqual({ name, tool: TOOLS[image] });
    }
    // ElasticMQ's image has no probe tool; the bridge and the worker probe their health ports.
    expect(raw.services.elasticmq.healthcheck).toBeUndefined();
    for (const [name, port] of [
      ['sqs-bridge', 8091],
      ['worker', 8092],
    ] as const) {
      expect((raw.services[name].healthcheck?.test as string[]).join(' ')).toContain(
        `127.0.0.1:${port}/health`,
      );
    }
  });

  it('runs each process with the command of its package.json start script', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of PROCESS_NAMES) {
      const script = scripts[PROCESSES[name].script].split(/\s+/);
      expect({ name, command: command(raw.services[name]) }).toEqual({ name, command: script });
      // dist/src/<x>.js is what `npm run build` makes of src/<x>.ts, the entry point checked above.
      // node [V8 flags] <file>
      const file = script.slice(1).find((arg) => !arg.startsWith('-')) ?? '';
      expect(file.replace(/^dist\//, '').replace(/\.js$/, '.ts')).toBe(PROCESSES[name].main);
    }
  });

  it('serves Mistral-7B-Instruct-v0.3 on the gpu profile with a GPU, a model cache and the flags that matter', () => {
    const vllm = withoutDotEnv.services.vllm;
    const args = command(vllm);
    expect(vllm.entrypoint).toEqual(['vllm', 'serve']);
    expect(args[0]).toBe('mistralai/Mistral-7B-Instruct-v0.3');
    for (const flag of [
      '--tokenizer-mode=mistral',
      '--config-format=mistral',
      '--load-format=mistral',
      '--port=8800',
      '--host=0.0.0.0',
    ]) {
      expect(args).toContain(flag);
    }
    for (const flag of ['--max-model-len=', '--max-num-seqs=', '--gpu-memory-utilization=']) {
      expect(args.some((a) => a.startsWith(flag) && a.length > flag.length)).toBe(true);
    }
    // The worker asks for the name vLLM serves.
    expect(args).toContain(
      `--served-model-name=${serviceEnvironment(withoutDotEnv.services.worker).VLLM_MODEL}`,
    );
    expect(vllm.deploy?.resources?.reservations?.devices).toEqual([
      { driver: 'nvidia', count: 1, capabilities: ['gpu'] },
    ]);
    expect(vllm.volumes).toContain('vllm-model-cache:/root/.cache/huggingface');
    expect(Object.keys(raw.volumes ?? {})).toContain('vllm-model-cache');
    expect(withExampleDotEnv.services['vllm-simulator'].environment).toMatchObject({
      VLLM_SIM_HOST: '0.0.0.0',
    });
    // The worker talks to the simulator by default and to vLLM when .env says so.
    expect(serviceEnvironment(withoutDotEnv.services.worker).VLLM_API_URL).toBe('http://vllm-simulator:8800');
    const gpu = interpolateDeep(raw, { WORKER_VLLM_API_URL: 'http://vllm:8800' });
    expect(serviceEnvironment(gpu.services.worker).VLLM_API_URL).toBe('http://vllm:8800');
  });

  it('gives the bridge and the worker time to drain on stop (the processes allow 30 s)', () => {
    for (const name of ['sqs-bridge', 'worker']) {
      const grace = /^(\d+)s$/.exec(raw.services[name].stop_grace_period ?? '')?.[1];
      expect({ name, grace: Number(grace) }).toEqual({ name, grace: expect.any(Number) });
      expect(Number(grace)).toBeGreaterThan(30);
    }
  });

  it('interpolates like compose: defaults, empty values, $$ escapes; required variables throw', () => {
    expect(interpolate('${A:-x}/${B-y}/${C:-z}/$$D', { A: '', B: '', C: 'c' })).toBe('x//c/$D');
    expect(interpolate('${A:+set}${B+set}', { A: '', B: '' })).toBe('set');
    expect(() => interpolate('${A:?needed}', {})).toThrow('required variable A');
  });
});

describe('dclint on docker-compose.yml', () => {
  it('reports no errors', () => {
    const errors = dclint('docker-compose.yml').filter((m) => m.type === 'error');
    expect(errors).toEqual([]);
  });

  it('does report errors on a bad compose file (negative check)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dclint-'));
    try {
      const bad = join(dir, 'docker-compose.yml');
      writeFileSync(
        bad,
        "name: bad\nservices:\n  a:\n    image: nginx:latest\n    ports:\n      - '8080:80'\n  b:\n    image: nginx:latest\n    ports:\n      - '8080:80'\n",
      );
      const rules = new Set(
        dclint(bad)
          .filter((m) => m.type === 'error')
          .map((m) => m.rule),
      );
      expect([...rules].sort()).toEqual(
        expect.arrayContaining([
          'no-duplicate-exported-ports',
          'no-unbound-port-interfaces',
          'service-image-require-explicit-tag',
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
