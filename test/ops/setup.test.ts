/** `feedback setup`: the slot check, the plan (idempotent), the Cloud printout, the calls it makes. */
import { FEEDBACK_SEARCH_ATTRIBUTES } from '../../src/domain/workflow';
import {
  cloudCommands,
  FEEDBACK_ATTRIBUTE_SPECS,
  isTemporalCloud,
  planSetup,
  runSetup,
  SetupError,
  slotProblems,
  SQL_VISIBILITY_SLOTS,
  type AttributeSpec,
  type SetupConnection,
} from '../../src/ops/setup';

const ints = (n: number, prefix = 'I'): AttributeSpec[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, type: 'Int' }));

describe('SQL visibility slots', () => {
  it('are those of schema/postgresql/v12/visibility/schema.sql', () => {
    expect(SQL_VISIBILITY_SLOTS).toEqual({
      Bool: 3,
      Datetime: 3,
      Double: 3,
      Int: 3,
      Keyword: 10,
      Text: 3,
      KeywordList: 3,
    });
  });

  it('fit the project’s own list', () => {
    expect(FEEDBACK_ATTRIBUTE_SPECS.map((a) => a.name)).toEqual(
      FEEDBACK_SEARCH_ATTRIBUTES.map((k) => k.name),
    );
    expect(slotProblems(FEEDBACK_ATTRIBUTE_SPECS)).toEqual([]);
  });

  it('reject a fourth Int with a message naming the type, the attributes and the limit', () => {
    expect(slotProblems(ints(3))).toEqual([]);
    expect(slotProblems(ints(4))).toEqual([
      '4 Int search attributes (I0, I1, I2, I3), but SQL visibility has 3 Int slots per namespace',
    ]);
  });

  it('count attributes already on the namespace, once each', () => {
    expect(slotProblems(ints(2), { Other: 'Int' })).toEqual([]);
    expect(slotProblems(ints(3), { I0: 'Int' })).toEqual([]);
    expect(slotProblems(ints(3), { Other: 'Int' })).toHaveLength(1);
    const keywords = Array.from({ length: 11 }, (_, i): AttributeSpec => ({
      name: `K${i}`,
      type: 'Keyword',
    }));
    expect(slotProblems(keywords)[0]).toMatch(/^11 Keyword .* 10 Keyword slots/);
  });
});

describe('planSetup', () => {
  const wanted: AttributeSpec[] = [
    { name: 'MemberId', type: 'Int' },
    { name: 'FeedbackStage', type: 'Keyword' },
  ];

  it('creates the namespace and every attribute on a new server', () => {
    const plan = planSetup(wanted, { exists: false, custom: {} });
    expect(plan).toMatchObject({ createNamespace: true, add: wanted, present: [], conflicts: [] });
  });

  it('adds only what is missing, and nothing the second time', () => {
    const first = planSetup(wanted, { exists: true, custom: { MemberId: 'Int' } });
    expect(first).toMatchObject({ createNamespace: false, add: [wanted[1]], present: [wanted[0]] });
    const second = planSetup(wanted, { exists: true, custom: { MemberId: 'Int', FeedbackStage: 'Keyword' } });
    expect(second).toMatchObject({ createNamespace: false, add: [], present: wanted, conflicts: [] });
  });

  it('reports a name registered with another type', () => {
    const plan = planSetup(wanted, { exists: true, custom: { MemberId: 'Keyword' } });
    expect(plan.conflicts).toEqual([{ name: 'MemberId', type: 'Int', registered: 'Keyword' }]);
  });
});

describe('Temporal Cloud', () => {
  it('is recognised by its namespace (mTLS) and regional (API key) endpoints', () => {
    expect(isTemporalCloud('leafresh.a1b2c.tmprl.cloud:7233')).toBe(true);
    expect(isTemporalCloud('ap-northeast-2.aws.api.temporal.io:7233')).toBe(true);
    expect(isTemporalCloud('localhost:7233')).toBe(false);
    expect(isTemporalCloud('temporal-frontend.temporal:7233')).toBe(false);
  });

  it('gets the tcld commands with the names and types from the list', () => {
    const lines = cloudCommands('leafresh.a1b2c', 120 * 3600, FEEDBACK_ATTRIBUTE_SPECS);
    expect(lines).toContain('tcld namespace retention set --namespace leafresh.a1b2c --retention-days 5');
    const add = lines.find((l) => l.startsWith('tcld namespace search-attributes add'));
    for (const key of FEEDBACK_SEARCH_ATTRIBUTES)
      expect(add).toContain(`--search-attribute "${key.name}=${key.type === 'INT' ? 'Int' : 'Keyword'}"`);
  });
});

describe('runSetup', () => {
  /** A stand-in for the two services: a namespace map, recording each call. */
  function fakeServer(initial?: Record<string, number>) {
    const calls: string[] = [];
    let attributes = initial;
    const notFound = Object.assign(new Error('namespace not found'), { code: 5 });
    const connection = {
      workflowService: {
        describeNamespace: async () => {
          calls.push('describeNamespace');
          if (!attributes) throw notFound;
          return {};
        },
        registerNamespace: async () => {
          calls.push('registerNamespace');
          attributes = {};
          return {};
        },
      },
      operatorService: {
        listSearchAttributes: async () => ({ customAttributes: { ...attributes } }),
        addSearchAttributes: async (req: { searchAttributes?: Record<string, number> }) => {
          calls.push(`addSearchAttributes ${Object.keys(req.searchAttributes ?? {}).join(',')}`);
          attributes = { ...attributes, ...req.searchAttributes };
          return {};
        },
      },
    } as unknown as SetupConnection; // only the methods the setup calls
    return { connection, calls };
  }

  it('creates everything once; a second run changes nothing', async () => {
    const { connection, calls } = fakeServer();
    const first = await runSetup(connection, { namespace: 'ns', retentionSeconds: 3600 });
    expect(first.namespaceCreated).toBe(true);
    expect(first.added).toEqual(FEEDBACK_ATTRIBUTE_SPECS);
    calls.length = 0;
    const second = await runSetup(connection, { namespace: 'ns', retentionSeconds: 3600 });
    expect(second).toMatchObject({ namespaceCreated: false, added: [] });
    expect(second.present).toEqual(FEEDBACK_ATTRIBUTE_SPECS);
    expect(calls).toEqual(['describeNamespace']);
  });

  it('creates nothing when the slots would overflow', async () => {
    const { connection, calls } = fakeServer({ A: 3, B: 3 });
    await expect(runSetup(connection, { namespace: 'ns', retentionSeconds: 3600 })).rejects.toThrow(
      SetupError,
    );
    expect(calls).toEqual(['describeNamespace']);
  });
});
