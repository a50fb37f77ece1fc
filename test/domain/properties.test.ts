/**
 * Property-based tests (fast-check) of the request schema and the date parser: nothing thrown on any
 * input, invalid input always answered with located errors, valid input round-trips.
 */
import fc from 'fast-check';
import { formatDateTime, parseLocalDateTime, type LocalDateTimeParts } from '../../src/domain/datetime';
import { renderPrompt } from '../../src/domain/prompt';
import { LIMITS, normalizeText, validateFeedbackRequest } from '../../src/domain/request';

const RUNS = { numRuns: 1000 };

/** Valid date-time parts (the parser's own range), with an optional offset. */
const dateParts: fc.Arbitrary<LocalDateTimeParts> = fc
  .record({
    year: fc.integer({ min: LIMITS.minYear, max: LIMITS.maxYear }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    nanos: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 999_999_999 })),
    offset: fc.constantFrom(undefined, '+09:00', 'Z', '-05:30'),
  })
  .map((p) => (p.offset === undefined ? { ...p, offset: undefined } : p)) as fc.Arbitrary<LocalDateTimeParts>;

const jackson = (p: LocalDateTimeParts) => [p.year, p.month, p.day, p.hour, p.minute, p.second, p.nanos];

/** Any JSON-like value, including the shapes a broken producer sends. */
const anyJson = fc.jsonValue({ maxDepth: 4 });

/** A valid request in the BE's shape, dates as Jackson arrays or ISO strings. */
const validRequest = fc.record({
  memberId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  personalChallenges: fc.array(
    fc.record({
      id: fc.integer({ min: -1e12, max: 1e12 }),
      title: fc
        .string({ unit: 'binary', minLength: 1, maxLength: 40 })
        .filter((t) => normalizeText(t).length > 0),
      isSuccess: fc.boolean(),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  groupChallenges: fc.array(
    fc.record({
      id: fc.integer({ min: 1, max: 1e9 }),
      title: fc
        .string({ unit: 'binary', minLength: 1, maxLength: 40 })
        .filter((t) => normalizeText(t).length > 0),
      startDate: dateParts.map(jackson),
      endDate: dateParts.map((p) => formatDateTime(p)),
      submissions: fc.array(fc.record({ isSuccess: fc.boolean(), submittedAt: dateParts.map(jackson) }), {
        maxLength: 5,
      }),
    }),
    { maxLength: 3 },
  ),
});

describe('the date parser', () => {
  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, fc.string({ unit: 'binary' }), fc.array(fc.integer())), (input) => {
        const result = parseLocalDateTime(input);
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('round-trips every valid date-time through its ISO form and its Jackson array', () => {
    fc.assert(
      fc.property(dateParts, (parts) => {
        const iso = formatDateTime(parts);
        const fromIso = parseLocalDateTime(iso);
        expect(fromIso.ok).toBe(true);
        if (fromIso.ok) expect(formatDateTime(fromIso.value)).toBe(iso);
        const fromArray = parseLocalDateTime(jackson(parts));
        expect(fromArray.ok).toBe(true);
        // An array carries no offset: it is Seoul time, like an ISO string without one.
        if (fromArray.ok)
          expect(formatDateTime(fromArray.value)).toBe(formatDateTime({ ...parts, offset: undefined }));
      }),
      RUNS,
    );
  });
});

describe('the request schema', () => {
  it('never throws, and every refusal names where it is wrong', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyJson,
          validRequest.map((r) => ({ ...r, memberId: String(r.memberId) })),
        ),
        (input) => {
          const result = validateFeedbackRequest(input);
          if (!result.ok) {
            expect(result.errors.length).toBeGreaterThan(0);
            for (const e of result.errors) {
              expect(typeof e.path).toBe('string');
              expect(e.message.length).toBeGreaterThan(0);
            }
          }
        },
      ),
      RUNS,
    );
  });

  it('accepts every valid request, and its output is a fixed point (validating it again changes nothing)', () => {
    fc.assert(
      fc.property(validRequest, (input) => {
        const first = validateFeedbackRequest(input);
        expect(first.ok).toBe(true);
        if (!first.ok) return;
        const again = validateFeedbackRequest(JSON.parse(JSON.stringify(first.value)));
        expect(again).toEqual(first);
        expect(first.value.memberId).toBe(input.memberId);
        expect(first.value.personalChallenges.map((c) => c.title)).toEqual(
          input.personalChallenges.map((c) => normalizeText(c.title)),
        );
      }),
      RUNS,
    );
  });

  it('refuses a valid request with one field broken, at that field', () => {
    const breakers: Array<[string, (r: Record<string, unknown>) => void]> = [
      ['memberId', (r) => (r.memberId = -1)],
      [
        'personalChallenges[0].title',
        (r) => ((r.personalChallenges as Array<Record<string, unknown>>)[0].title = ' \u0000 '),
      ],
      [
        'personalChallenges[0].isSuccess',
        (r) => ((r.personalChallenges as Array<Record<string, unknown>>)[0].isSuccess = 'yes'),
      ],
      [
        'personalChallenges',
        (r) =>
          (r.personalChallenges = new Array(LIMITS.personalChallenges + 1).fill({
            id: 1,
            title: 't',
            isSuccess: true,
          })),
      ],
    ];
    fc.assert(
      fc.property(validRequest, fc.constantFrom(...breakers), (input, [path, breakIt]) => {
        const broken = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
        breakIt(broken);
        const result = validateFeedbackRequest(broken);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.errors.map((e) => e.path)).toContain(path);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every title of a valid request on one line inside the prompt data block', () => {
    fc.assert(
      fc.property(validRequest, fc.string({ unit: 'binary', maxLength: 60 }), (input, injected) => {
        const request = { ...input, personalChallenges: [{ id: 1, title: `x${injected}`, isSuccess: true }] };
        const result = validateFeedbackRequest(request);
        if (!result.ok) return;
        const lines = renderPrompt(result.value).split('\n');
        const open = lines.indexOf('<data>');
        expect(lines[open + 2]).toBe('</data>');
        expect(lines[open + 1]).toMatch(/^- x.* \(성공\)$/);
      }),
      RUNS,
    );
  });
});
