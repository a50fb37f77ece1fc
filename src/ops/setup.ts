/**
 * `feedback setup`: the namespace and the search attributes FeedbackWorkflow uses, from the one list
 * in domain/workflow.ts, created through Temporal's operator API where missing (idempotent). Temporal
 * Cloud manages both through its own API / `tcld`: for it, the equivalent commands are printed.
 */
import type { ConnectionLike } from '@temporalio/client';

/** The two services the setup calls (a Client's connection, or a stub in tests). */
export type SetupConnection = Pick<ConnectionLike, 'workflowService' | 'operatorService'>;
import { SearchAttributeType } from '@temporalio/common';
// The SDK's own Duration → protobuf conversion (seconds are a Long in the request type).
import { msToTs } from '@temporalio/common/lib/time';
import { FEEDBACK_SEARCH_ATTRIBUTES } from '../domain/workflow';

export type AttributeType = 'Int' | 'Keyword' | 'Bool' | 'Datetime' | 'Double' | 'Text' | 'KeywordList';

/**
 * Custom search attribute slots per type in SQL visibility (PostgreSQL v12, MySQL v8, SQLite — the dev
 * server): the pre-allocated columns Bool01–03, Datetime01–03, Double01–03, Int01–03, Keyword01–10,
 * Text01–03, KeywordList01–03 of `executions_visibility` (temporalio/temporal,
 * schema/postgresql/v12/visibility/schema.sql). Elasticsearch has no such limit; SQL is the strictest.
 */
export const SQL_VISIBILITY_SLOTS: Readonly<Record<AttributeType, number>> = {
  Bool: 3,
  Datetime: 3,
  Double: 3,
  Int: 3,
  Keyword: 10,
  Text: 3,
  KeywordList: 3,
};

export interface AttributeSpec {
  name: string;
  type: AttributeType;
}

const SDK_TYPES: Record<SearchAttributeType, AttributeType> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** temporal.api.enums.v1.IndexedValueType (the proto package is not a direct dependency). */
const ENUM_TYPES: Record<AttributeType, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/** gRPC status codes the setup handles. */
const grpcStatus = { NOT_FOUND: 5, ALREADY_EXISTS: 6 } as const;

export function attributeSpecs(
  keys: ReadonlyArray<{ name: string; type: SearchAttributeType }>,
): AttributeSpec[] {
  return keys.map((key) => ({ name: key.name, type: SDK_TYPES[key.type] }));
}

/** The attributes FeedbackWorkflow and the bridge set (domain/workflow.ts). */
export const FEEDBACK_ATTRIBUTE_SPECS: readonly AttributeSpec[] = attributeSpecs(FEEDBACK_SEARCH_ATTRIBUTES);

/**
 * Why the set does not fit SQL visibility's slots: one line per type over its limit. `existing`
 * (custom attributes already on the namespace) counts too: they hold slots of their own.
 */
export function slotProblems(
  wanted: readonly AttributeSpec[],
  existing: Readonly<Record<string, AttributeType>> = {},
): string[] {
  const all = new Map<string, AttributeType>(Object.entries(existing));
  for (const a of wanted) if (!all.has(a.name)) all.set(a.name, a.type);
  const counts = new Map<AttributeType, string[]>();
  for (const [name, type] of all) counts.set(type, [...(counts.get(type) ?? []), name]);
  const problems: string[] = [];
  for (const [type, names] of counts) {
    const limit = SQL_VISIBILITY_SLOTS[type];
    if (names.length > limit)
      problems.push(
        `${names.length} ${type} search attributes (${names.join(', ')}), but SQL visibility has ${limit} ${type} slots per namespace`,
      );
  }
  return problems;
}

export interface NamespaceState {
  exists: boolean;
  /** Custom search attributes registered on the namespace, by name. */
  custom: Readonly<Record<string, AttributeType>>;
}

export interface SetupPlan {
  createNamespace: boolean;
  add: AttributeSpec[];
  present: AttributeSpec[];
  /** A name registered with another type: cannot be fixed by adding; an operator must decide. */
  conflicts: Array<AttributeSpec & { registered: AttributeType }>;
  /** Slot limits the result would exceed (empty: fits). */
  slotProblems: string[];
}

/** What to create given what exists: nothing, on a namespace set up already. */
export function planSetup(wanted: readonly AttributeSpec[], state: NamespaceState): SetupPlan {
  const plan: SetupPlan = {
    createNamespace: !state.exists,
    add: [],
    present: [],
    conflicts: [],
    slotProblems: slotProblems(wanted, state.custom),
  };
  for (const a of wanted) {
    const registered = state.custom[a.name];
    if (registered === undefined) plan.add.push(a);
    else if (registered === a.type) plan.present.push(a);
    else plan.conflicts.push({ ...a, registered });
  }
  return plan;
}

/**
 * Temporal Cloud: a namespace endpoint `<ns>.<account>.tmprl.cloud` (mTLS) or a regional API-key
 * endpoint `<region>.<provider>.api.temporal.io` (docs/production.md).
 */
export function isTemporalCloud(address: string): boolean {
  const host = address.replace(/:\d+$/, '').toLowerCase();
  return host.endsWith('.tmprl.cloud') || host.endsWith('.api.temporal.io');
}

/**
 * The equivalent for Temporal Cloud, where the operator service does not manage namespaces or search
 * attributes: `tcld` commands (Cloud namespaces are `<name>.<account>`; retention in days, at least 1).
 */
export function cloudCommands(
  namespace: string,
  retentionSeconds: number,
  wanted: readonly AttributeSpec[],
): string[] {
  const days = Math.max(1, Math.ceil(retentionSeconds / 86_400));
  return [
    `# Temporal Cloud: namespaces and search attributes are managed with tcld (or the Cloud Ops API).`,
    `tcld namespace retention set --namespace ${namespace} --retention-days ${days}`,
    `tcld namespace search-attributes add --namespace ${namespace} ${wanted
      .map((a) => `--search-attribute "${a.name}=${a.type}"`)
      .join(' ')}`,
  ];
}

export interface SetupReport {
  namespace: string;
  namespaceCreated: boolean;
  added: AttributeSpec[];
  present: AttributeSpec[];
}

export class SetupError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'SetupError';
  }
}

const TYPES_BY_ENUM = new Map<number, AttributeType>(
  Object.entries(ENUM_TYPES).map(([name, value]) => [value, name as AttributeType]),
);

const isGrpc = (err: unknown, code: number) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;

async function namespaceState(connection: SetupConnection, namespace: string): Promise<NamespaceState> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (isGrpc(err, grpcStatus.NOT_FOUND)) return { exists: false, custom: {} };
    throw err;
  }
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const custom: Record<string, AttributeType> = {};
  for (const [name, type] of Object.entries(listed.customAttributes ?? {})) {
    const known = TYPES_BY_ENUM.get(Number(type));
    if (known) custom[name] = known;
  }
  return { exists: true, custom };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates the namespace and the missing attributes; checks the slot limits and type conflicts first,
 * creating nothing when either fails. A namespace created a moment ago may not be visible to every
 * frontend yet: the attribute call is retried on NOT_FOUND for a few seconds.
 */
export async function runSetup(
  connection: SetupConnection,
  options: { namespace: string; retentionSeconds: number; wanted?: readonly AttributeSpec[] },
): Promise<SetupReport> {
  const wanted = options.wanted ?? FEEDBACK_ATTRIBUTE_SPECS;
  const { namespace } = options;
  const plan = planSetup(wanted, await namespaceState(connection, namespace));
  const problems = [
    ...plan.slotProblems,
    ...plan.conflicts.map((c) => `${c.name} is registered as ${c.registered}, the code needs ${c.type}`),
  ];
  if (problems.length > 0) throw new SetupError(problems);

  if (plan.createNamespace) {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(options.retentionSeconds * 1000),
      });
    } catch (err) {
      // Another setup created it in between: fine.
      if (!isGrpc(err, grpcStatus.ALREADY_EXISTS)) throw err;
    }
  }
  if (plan.add.length > 0) {
    const searchAttributes = Object.fromEntries(plan.add.map((a) => [a.name, ENUM_TYPES[a.type]]));
    for (let attempt = 1; ; attempt++) {
      try {
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
        break;
      } catch (err) {
        if (!isGrpc(err, grpcStatus.NOT_FOUND) || attempt >= 20) throw err;
        await sleep(500);
      }
    }
  }
  return { namespace, namespaceCreated: plan.createNamespace, added: plan.add, present: plan.present };
}
