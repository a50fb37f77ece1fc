/**
 * Property-based tests (fast-check) of the request schema and the date parser: nothing thrown on any
 * input; every calendar date (month ends and 29 February of leap years included) accepted in every form
 * the BE sends, and every impossible one refused; every refusal located at the field that is wrong.
 */
import fc from 'fast-check';
import { formatDateTime, parseLocalDateTime, type LocalDateTimeParts } from '../../src/domain/datetime';
import { renderPrompt } from '../../src/domain/prompt';
import {
  LIMITS,
  normalizeText,
  validateFeedbackRequest,
  type FeedbackRequest,
  type FieldError,
  type Validation,
} from '../../src/domain/request';

const RUNS = { numRuns: 1000 };

function accepted<T>(result: Validation<T>): T {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return result.value;
}

function refused<T>(result: Validation<T>): FieldError[] {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.value)}`);
  return result.errors;
}

// ---------------------------------------------------------------------------------------------------
// Dates

/**
 * Days in a month by JavaScript's own (proleptic Gregorian) calendar: an oracle that does not share
 * datetime.ts's table or leap-year rule.
 */
function calendarDays(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0); // day 0 of the next month: the last day of this one
  return date.getUTCDate();
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** Years of a range, often a century year (2000 and 2400 are leap years; 1900 and 2100 are not). */
const yearIn = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min, max }),
    fc.integer({ min: Math.ceil(min / 100), max: Math.floor(max / 100) }).map((c) => c * 100),
  );
const anyMonth = fc.integer({ min: 1, max: 12 });
const dayBetween = (year: number, month: number, min: number, max: number) =>
  fc.integer({ min, max }).map((day): CalendarDate => ({ year, month, day }));

/** Every day of the calendar, month ends (28th to 31st where they exist) and 29 February weighted up. */
const calendarDate = (min: number, max: number): fc.Arbitrary<CalendarDate> =>
  fc.oneof(
    fc.tuple(yearIn(min, max), anyMonth).chain(([y, m]) => dayBetween(y, m, 1, calendarDays(y, m))),
    fc.tuple(yearIn(min, max), anyMonth).chain(([y, m]) => dayBetween(y, m, 28, calendarDays(y, m))),
    yearIn(min, max)
      .filter((y) => calendarDays(y, 2) === 29)
      .map((year) => ({ year, month: 2, day: 29 })),
  );

/**
 * Days that do not exist: 29 February of a common year, 30 and 31 February, 31 April, June, September
 * and November, and day 0 or 32 of any month.
 */
const impossibleDate = (min: number, max: number): fc.Arbitrary<CalendarDate> =>
  fc.oneof(
    yearIn(min, max)
      .filter((y) => calendarDays(y, 2) === 28)
      .map((year) => ({ year, month: 2, day: 29 })),
    fc
      .tuple(yearIn(min, max), fc.constantFrom(2, 4, 6, 9, 11))
      .chain(([y, m]) => dayBetween(y, m, calendarDays(y, m) + 1, 31)),
    fc
      .tuple(yearIn(min, max), anyMonth, fc.constantFrom(0, 32))
      .map(([year, month, day]) => ({ year, month, day })),
  );

/** A time of day, often on a whole minute or second (the BE then drops seconds and nanoseconds). */
const timeOfDay = fc.record({
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 59 })),
  nanos: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 999 }).map((ms) => ms * 1_000_000),
    fc.integer({ min: 1, max: 999_999 }).map((us) => us * 1000),
    fc.integer({ min: 1, max: 999_999_999 }),
  ),
});

/** The BE sends no zone; other producers may add `Z` or an offset. */
const offset = fc.constantFrom(undefined, undefined, 'Z', '+09:00', '-05:30', '+18:00');

const dateTime = (date: fc.Arbitrary<CalendarDate>): fc.Arbitrary<LocalDateTimeParts> =>
  fc
    .tuple(date, timeOfDay, offset)
    .map(([d, t, o]) => (o === undefined ? { ...d, ...t } : { ...d, ...t, offset: o }));

type Wire = string | number[];

/** One way of writing a `LocalDateTime` on the wire; arrays carry no zone. */
interface WireForm {
  name: string;
  write: (p: LocalDateTimeParts) => Wire;
  carriesOffset: boolean;
}

const clock = (p: LocalDateTimeParts) => `${pad(p.hour, 2)}:${pad(p.minute, 2)}`;
const isoDate = (p: CalendarDate) => `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
const zone = (p: LocalDateTimeParts) => p.offset ?? '';

const WIRE_FORMS: WireForm[] = [
  {
    // Jackson's default array: seconds only when seconds or nanos are non-zero, nanos only when non-zero.
    name: 'Jackson array',
    write: (p) => [
      p.year,
      p.month,
      p.day,
      p.hour,
      p.minute,
      ...(p.second !== 0 || p.nanos !== 0 ? [p.second] : []),
      ...(p.nanos !== 0 ? [p.nanos] : []),
    ],
    carriesOffset: false,
  },
  {
    name: 'full 7-element array',
    write: (p) => [p.year, p.month, p.day, p.hour, p.minute, p.second, p.nanos],
    carriesOffset: false,
  },
  {
    // Jackson with dates as text (ISO_LOCAL_DATE_TIME): seconds always, the fraction's significant digits.
    name: 'ISO_LOCAL_DATE_TIME',
    write: (p) => {
      const fraction = p.nanos === 0 ? '' : `.${pad(p.nanos, 9).replace(/0+$/, '')}`;
      return `${isoDate(p)}T${clock(p)}:${pad(p.second, 2)}${fraction}${zone(p)}`;
    },
    carriesOffset: true,
  },
  {
    // Java's LocalDateTime.toString(): no seconds when they are zero, the fraction in groups of 3 digits.
    name: 'LocalDateTime.toString',
    write: (p) => {
      const digits = pad(p.nanos, 9);
      const fraction =
        p.nanos === 0
          ? ''
          : `.${p.nanos % 1e6 === 0 ? digits.slice(0, 3) : p.nanos % 1e3 === 0 ? digits.slice(0, 6) : digits}`;
      const seconds = p.second === 0 && p.nanos === 0 ? '' : `:${pad(p.second, 2)}${fraction}`;
      return `${isoDate(p)}T${clock(p)}${seconds}${zone(p)}`;
    },
    carriesOffset: true,
  },
];

interface WrittenDate {
  parts: LocalDateTimeParts;
  form: string;
  wire: Wire;
  /** The canonical form the parser must give: Seoul time when the wire carries no zone. */
  canonical: string;
}

const written = (parts: fc.Arbitrary<LocalDateTimeParts>): fc.Arbitrary<WrittenDate> =>
  fc.tuple(parts, fc.constantFrom(...WIRE_FORMS)).map(([p, form]) => ({
    parts: p,
    form: form.name,
    wire: form.write(p),
    canonical: formatDateTime(form.carriesOffset ? p : { ...p, offset: undefined }),
  }));

/** Valid in the parser's own range (years 1-9999), and in the request's (LIMITS.minYear..maxYear). */
const anyValidDate = written(dateTime(calendarDate(1, 9999)));
const requestDate = written(dateTime(calendarDate(LIMITS.minYear, LIMITS.maxYear)));
const anyImpossibleDate = written(dateTime(impossibleDate(1, 9999)));
const requestImpossibleDate = written(dateTime(impossibleDate(LIMITS.minYear, LIMITS.maxYear)));
/** A real date the parser accepts but the request schema refuses: a year outside its bounds. */
const requestYearOutOfBounds = written(
  dateTime(fc.oneof(calendarDate(1, LIMITS.minYear - 1), calendarDate(LIMITS.maxYear + 1, 9999))),
);

const dayMessage = (d: CalendarDate) => `day ${d.day} does not exist in ${d.year}-${pad(d.month, 2)}`;

describe('the date parser', () => {
  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ unit: 'binary' }), fc.array(fc.integer())),
        (input) => {
          const result = parseLocalDateTime(input);
          if (result.ok) {
            // Whatever it accepts, it accepts again in the canonical form it gives.
            const again = parseLocalDateTime(formatDateTime(result.value));
            expect(again.ok && formatDateTime(again.value)).toBe(formatDateTime(result.value));
          } else {
            expect(result.error).toMatch(/\S/);
          }
        },
      ),
      RUNS,
    );
  });

  it('reads every calendar date-time (month ends, 29 February of leap years) in every form, to its canonical form', () => {
    fc.assert(
      fc.property(anyValidDate, ({ parts, wire, canonical }) => {
        const result = parseLocalDateTime(wire);
        if (!result.ok) throw new Error(`${JSON.stringify(wire)} refused: ${result.error}`);
        expect(formatDateTime(result.value)).toBe(canonical);
        expect(canonical.slice(0, 10)).toBe(isoDate(parts));
      }),
      RUNS,
    );
  });

  it('refuses every day that does not exist (29 February of common years, 30 February, 31 April...) in every form', () => {
    fc.assert(
      fc.property(anyImpossibleDate, ({ parts, wire }) => {
        const result = parseLocalDateTime(wire);
        if (result.ok) throw new Error(`${JSON.stringify(wire)} accepted as ${formatDateTime(result.value)}`);
        expect(result.error).toBe(dayMessage(parts));
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Requests

interface WireSubmission {
  isSuccess: boolean;
  submittedAt: Wire;
}
interface WireGroupChallenge {
  id: number;
  title: string;
  startDate: Wire;
  endDate: Wire;
  submissions: WireSubmission[];
}
interface WireRequest {
  memberId: number;
  personalChallenges: Array<{ id: number; title: string; isSuccess: boolean }>;
  groupChallenges: WireGroupChallenge[];
}

const wireDate = requestDate.map((d) => d.wire);
const titleText = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 40 })
  .filter((t) => normalizeText(t).length > 0);

/** A valid request in the BE's shape, its dates any calendar date in any form. */
const validRequest: fc.Arbitrary<WireRequest> = fc.record({
  memberId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  personalChallenges: fc.array(
    fc.record({ id: fc.integer({ min: -1e12, max: 1e12 }), title: titleText, isSuccess: fc.boolean() }),
    { minLength: 1, maxLength: 5 },
  ),
  groupChallenges: fc.array(
    fc.record({
      id: fc.integer({ min: 1, max: 1e9 }),
      title: titleText,
      startDate: wireDate,
      endDate: wireDate,
      submissions: fc.array(fc.record({ isSuccess: fc.boolean(), submittedAt: wireDate }), { maxLength: 5 }),
    }),
    { maxLength: 3 },
  ),
});

/** One date field of a request: which field, of which group challenge and submission (modulo their counts). */
interface DateField {
  field: 'startDate' | 'endDate' | 'submittedAt';
  group: number;
  submission: number;
}
const dateField: fc.Arbitrary<DateField> = fc.record({
  field: fc.constantFrom('startDate' as const, 'endDate' as const, 'submittedAt' as const),
  group: fc.nat(),
  submission: fc.nat(),
});

interface PlacedDate {
  request: WireRequest;
  path: string;
  read: (r: FeedbackRequest) => string;
}

/** A copy of `request` with `value` at the chosen date field (a group or a submission added if none). */
function placeDate(request: WireRequest, at: DateField, value: Wire): PlacedDate {
  const copy = structuredClone(request);
  if (copy.groupChallenges.length === 0) {
    copy.groupChallenges.push({
      id: 1,
      title: 't',
      startDate: [2025, 6, 9, 0, 0],
      endDate: '2025-06-15T23:59:59',
      submissions: [],
    });
  }
  const g = at.group % copy.groupChallenges.length;
  const group = copy.groupChallenges[g];
  if (at.field !== 'submittedAt') {
    const field = at.field;
    group[field] = value;
    return {
      request: copy,
      path: `groupChallenges[${g}].${field}`,
      read: (r) => r.groupChallenges[g][field],
    };
  }
  if (group.submissions.length === 0)
    group.submissions.push({ isSuccess: true, submittedAt: '2025-06-10T09:00:00' });
  const s = at.submission % group.submissions.length;
  group.submissions[s].submittedAt = value;
  return {
    request: copy,
    path: `groupChallenges[${g}].submissions[${s}].submittedAt`,
    read: (r) => r.groupChallenges[g].submissions[s].submittedAt,
  };
}

/** The keys of a field path such as `groupChallenges[0].submissions[2].submittedAt`. */
function pathKeys(path: string): Array<string | number> {
  expect(path).toMatch(/^[A-Za-z]\w*(?:\[\d+\]|\.[A-Za-z]\w*)*$/);
  return [...path.matchAll(/\[(\d+)\]|([A-Za-z]\w*)/g)].map((m) =>
    m[1] === undefined ? m[2] : Number(m[1]),
  );
}

/**
 * Asserts that an error path names a place in the input: `''` (the whole body) only for a body that is
 * not an object; otherwise every key but the last leads through the input, and the last names a
 * member of what it leads to (the member may be missing: a required field).
 */
function expectLocatedIn(input: unknown, path: string): void {
  const isObject = (v: unknown): v is Record<string | number, unknown> => typeof v === 'object' && v !== null;
  if (path === '') {
    expect(isObject(input) && !Array.isArray(input)).toBe(false);
    return;
  }
  const keys = pathKeys(path);
  let at: unknown = input;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(at) || !Object.hasOwn(at, key))
      throw new Error(`${path}: no ${key} in ${JSON.stringify(at)}`);
    at = at[key];
  }
  expect(isObject(at)).toBe(true);
  expect(typeof keys[keys.length - 1]).toBe(Array.isArray(at) ? 'number' : 'string');
}

describe('the request schema', () => {
  it('never throws, and every refusal names where it is wrong', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }).map((input) => ({ input, paths: undefined })),
          validRequest.map((r) => ({ input: { ...r, memberId: String(r.memberId) }, paths: ['memberId'] })),
        ),
        ({ input, paths }) => {
          const result = validateFeedbackRequest(input);
          if (paths !== undefined) expect(refused(result).map((e) => e.path)).toEqual(paths);
          if (result.ok) {
            // A JSON value can be a valid request by chance: then it is one like any other.
            expect(validateFeedbackRequest(JSON.parse(JSON.stringify(result.value)))).toEqual(result);
          } else {
            expect(result.errors.length).toBeGreaterThan(0);
            for (const e of result.errors) {
              expectLocatedIn(input, e.path);
              expect(e.message).toMatch(/\S/);
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
        const first = accepted(validateFeedbackRequest(input));
        expect(accepted(validateFeedbackRequest(JSON.parse(JSON.stringify(first))))).toEqual(first);
        expect(first.memberId).toBe(input.memberId);
        expect(first.personalChallenges.map((c) => c.title)).toEqual(
          input.personalChallenges.map((c) => normalizeText(c.title)),
        );
      }),
      RUNS,
    );
  });

  it('at any date field, takes a calendar date in any form as its canonical form, and refuses an impossible one at that field', () => {
    const kinds = fc.oneof(
      requestDate.map((date) => ({ date, valid: true as const, message: '' })),
      requestImpossibleDate.map((date) => ({ date, valid: false as const, message: dayMessage(date.parts) })),
      requestYearOutOfBounds.map((date) => ({
        date,
        valid: false as const,
        message: `year ${date.parts.year} is outside ${LIMITS.minYear}..${LIMITS.maxYear}`,
      })),
    );
    fc.assert(
      fc.property(validRequest, dateField, kinds, (input, at, { date, valid, message }) => {
        const { request, path, read } = placeDate(input, at, date.wire);
        const result = validateFeedbackRequest(request);
        if (valid) {
          expect(read(accepted(result))).toBe(date.canonical);
        } else {
          expect(refused(result)).toEqual([{ path, message }]);
        }
      }),
      RUNS,
    );
  });

  it('refuses a valid request with some fields broken, at each broken field and nowhere else', () => {
    type Breaker = [string, (r: WireRequest) => void];
    const fieldBreakers: Breaker[] = [
      ['memberId', (r) => (r.memberId = -1)],
      ['personalChallenges[0].title', (r) => (r.personalChallenges[0].title = ' \u0000 ')],
      [
        'personalChallenges[0].isSuccess',
        (r) => ((r.personalChallenges[0] as Record<string, unknown>).isSuccess = 'yes'),
      ],
      [
        'groupChallenges[0].id',
        (r) => {
          if (r.groupChallenges.length === 0) {
            r.groupChallenges.push({
              id: 1,
              title: 't',
              startDate: [2025, 6, 9, 0, 0],
              endDate: [2025, 6, 15, 23, 59, 59],
              submissions: [],
            });
          }
          r.groupChallenges[0].id = 1.5;
        },
      ],
    ];
    const tooMany: Breaker = [
      'personalChallenges',
      (r) =>
        (r.personalChallenges = new Array(LIMITS.personalChallenges + 1).fill({
          id: 1,
          title: 't',
          isSuccess: true,
        })),
    ];
    const breakings = fc.oneof(fc.subarray(fieldBreakers, { minLength: 1 }), fc.constant([tooMany]));
    fc.assert(
      fc.property(validRequest, breakings, (input, chosen) => {
        const broken = structuredClone(input);
        for (const [, breakIt] of chosen) breakIt(broken);
        const paths = refused(validateFeedbackRequest(broken)).map((e) => e.path);
        expect(paths.sort()).toEqual(chosen.map(([path]) => path).sort());
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every accepted title on one line inside the prompt data block, and refuses a blank or over-long one at its field', () => {
    const titles = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }).map((s) => ({ title: `x${s}`, valid: true })),
      // Only whitespace, controls and format characters: blank once normalised.
      fc
        .string({
          unit: fc.constantFrom(
            ' ',
            '\t',
            '\n',
            '\r',
            '\u0000',
            '\u0085',
            '\u200B',
            '\u2028',
            '\u202E',
            '\u3000',
            '\uFEFF',
          ),
          maxLength: 30,
        })
        .map((title) => ({ title, valid: false })),
      fc
        .string({ unit: fc.constantFrom('a', '가', '🌱', ' '), minLength: 1, maxLength: 20 })
        .map((s) => ({ title: `${'나'.repeat(LIMITS.titleChars)}${s.trim() || 'a'}`, valid: false })),
    );
    fc.assert(
      fc.property(validRequest, titles, (input, { title, valid }) => {
        const request = { ...input, personalChallenges: [{ id: 1, title, isSuccess: true }] };
        const result = validateFeedbackRequest(request);
        if (valid) {
          const lines = renderPrompt(accepted(result)).split('\n');
          const open = lines.indexOf('<data>');
          expect(lines[open + 2]).toBe('</data>');
          // Not `^- x`: NFC may compose the x with a combining mark that follows it (x + U+0307 is ẋ).
          expect(lines[open + 1]).toMatch(/^- \S.* \(성공\)$/);
        } else {
          expect(refused(result).map((e) => e.path)).toEqual(['personalChallenges[0].title']);
        }
      }),
      RUNS,
    );
  });
});
