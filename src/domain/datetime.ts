/**
 * Java `LocalDateTime` values as the BE serialises them: ISO-8601 strings (zone optional) or Jackson
 * arrays `[y, M, d, H, m]`, `[..., s]`, `[..., s, nanos]`. Values are checked, never clamped.
 * Times without a zone are Asia/Seoul local time (the BE's zone; no DST since 1988).
 *
 * Pure and dependency-free: it also runs inside the workflow sandbox.
 */

/** Asia/Seoul's offset from UTC in hours; the canonical form writes it `+09:00`. */
const SEOUL_OFFSET_HOURS = 9;
const SEOUL_OFFSET = `+${pad(SEOUL_OFFSET_HOURS, 2)}:00`;
const SEOUL_OFFSET_MS = SEOUL_OFFSET_HOURS * 3_600_000;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface LocalDateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** `Z` or `±HH:MM` when the input carried one. */
  offset?: string;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

function checkRanges(p: LocalDateTimeParts): string | undefined {
  if (p.year < 1 || p.year > 9999) return `year ${p.year} is out of range 1-9999`;
  if (p.month < 1 || p.month > 12) return `month ${p.month} is out of range 1-12`;
  const dim = daysInMonth(p.year, p.month);
  if (p.day < 1 || p.day > dim) return `day ${p.day} does not exist in ${p.year}-${pad(p.month, 2)}`;
  if (p.hour > 23) return `hour ${p.hour} is out of range 0-23`;
  if (p.minute > 59) return `minute ${p.minute} is out of range 0-59`;
  if (p.second > 59) return `second ${p.second} is out of range 0-59`;
  if (p.nanos > 999_999_999) return `nanoOfSecond ${p.nanos} is out of range 0-999999999`;
  return undefined;
}

function parseOffset(raw: string): ParseResult<string> {
  if (raw === 'Z' || raw === 'z') return { ok: true, value: 'Z' };
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(raw);
  if (!m) return { ok: false, error: `invalid zone offset ${raw}` };
  const hours = Number(m[2]);
  const minutes = Number(m[3]);
  if (hours > 18 || minutes > 59 || hours * 60 + minutes > 18 * 60) {
    return { ok: false, error: `zone offset ${raw} is out of range` };
  }
  return { ok: true, value: `${m[1]}${m[2]}:${m[3]}` };
}

function parseIso(text: string): ParseResult<LocalDateTimeParts> {
  const m = ISO.exec(text.trim());
  if (!m)
    return {
      ok: false,
      error: `"${truncate(text)}" is not an ISO-8601 date-time (yyyy-MM-ddTHH:mm[:ss[.fff]])`,
    };
  const parts: LocalDateTimeParts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
    nanos: m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0')),
  };
  if (m[8] !== undefined) {
    const offset = parseOffset(m[8]);
    if (!offset.ok) return offset;
    parts.offset = offset.value;
  }
  const rangeError = checkRanges(parts);
  return rangeError ? { ok: false, error: rangeError } : { ok: true, value: parts };
}

function parseJacksonArray(values: unknown[]): ParseResult<LocalDateTimeParts> {
  if (values.length < 5 || values.length > 7) {
    return { ok: false, error: `date-time array must have 5, 6 or 7 elements, got ${values.length}` };
  }
  for (const [i, v] of values.entries()) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      return { ok: false, error: `date-time array element ${i} must be a non-negative integer` };
    }
  }
  const n = values as number[];
  const parts: LocalDateTimeParts = {
    year: n[0],
    month: n[1],
    day: n[2],
    hour: n[3],
    minute: n[4],
    second: n[5] ?? 0,
    nanos: n[6] ?? 0,
  };
  const rangeError = checkRanges(parts);
  return rangeError ? { ok: false, error: rangeError } : { ok: true, value: parts };
}

/** Parses either BE form. Anything else (numbers, objects, blank strings) is an error, not a crash. */
export function parseLocalDateTime(input: unknown): ParseResult<LocalDateTimeParts> {
  if (typeof input === 'string') return parseIso(input);
  if (Array.isArray(input)) return parseJacksonArray(input);
  return { ok: false, error: 'expected an ISO-8601 string or a [y,M,d,H,m(,s(,nanos))] array' };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Canonical ISO form with an explicit offset (Seoul when the input had none), e.g.
 * `2025-06-07T13:08:16.710986+09:00`. Fractions keep their significant digits (up to nanoseconds).
 */
export function formatDateTime(p: LocalDateTimeParts): string {
  const fraction = p.nanos === 0 ? '' : `.${pad(p.nanos, 9).replace(/0+$/, '')}`;
  const date = `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
  const time = `${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${fraction}`;
  return `${date}T${time}${p.offset ?? SEOUL_OFFSET}`;
}

/** `yyyy-MM-dd` of a canonical date-time, as written (its own local date). */
export function localDate(canonical: string): string {
  return canonical.slice(0, 10);
}

/** Canonical Seoul-local form of an instant, e.g. for "now" or an SQS SentTimestamp. */
export function fromEpochMillis(ms: number): string {
  const seoul = new Date(ms + SEOUL_OFFSET_MS);
  return formatDateTime({
    year: seoul.getUTCFullYear(),
    month: seoul.getUTCMonth() + 1,
    day: seoul.getUTCDate(),
    hour: seoul.getUTCHours(),
    minute: seoul.getUTCMinutes(),
    second: seoul.getUTCSeconds(),
    nanos: seoul.getUTCMilliseconds() * 1_000_000,
    offset: SEOUL_OFFSET,
  });
}
