/**
 * The feedback request of the BE (`AiFeedbackCreationRequestDto`), one zod schema for the API and the
 * SQS bridge. Parsing normalises: absent lists become empty lists and every date-time becomes the
 * canonical ISO form with an offset (see datetime.ts).
 */
import { z } from 'zod';
import { formatDateTime, parseLocalDateTime } from './datetime';

/**
 * Bounds of a request: a week of one member's challenges is far below them; garbage is not. Group
 * challenges have no count bound: the BE sends every participation the member ever had (hundreds for
 * a long-time member), so only the body size (1 MiB; the queue's own limit) bounds them.
 */
export const LIMITS = {
  /** Distinct personal challenges verified in one week (the BE groups verifications by challenge). */
  personalChallenges: 100,
  /** Verifications of one group challenge in one week: at most a handful. */
  submissionsPerGroupChallenge: 500,
  titleChars: 200,
  minYear: 2000,
  maxYear: 2100,
} as const;

/**
 * Control and format characters (C0/C1 controls, line and paragraph separators, bidi overrides and
 * isolates, zero-width characters, BOM): they can break a prompt's lines or hide text from a reader.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\u2028\u2029\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/gu;

/**
 * The published form of a title (OpenAPI `pattern`, unanchored): it contains a character that
 * normalizeText keeps, i.e. one outside JavaScript's `\s` and UNSAFE_CHARACTERS. Spelled as ranges,
 * because Python (Schemathesis) reads neither `\p{Cc}` nor `\s` the way JavaScript does.
 */
export const TITLE_PATTERN = `[^${[
  '\\u0000-\\u0020\\u007F-\\u00A0', // C0 and C1 controls, space, no-break space
  '\\u1680\\u2000-\\u200F\\u2028-\\u202F\\u205F-\\u2064\\u2066-\\u206F\\u3000', // spaces, format characters
  '\\uFEFF', // BOM
].join('')}]`;

/** NFC, unsafe characters replaced by spaces, whitespace runs collapsed, trimmed. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(UNSAFE_CHARACTERS, ' ').replace(/\s+/g, ' ').trim();
}

/*
 * The published form of a date-time string (OpenAPI `pattern`): exactly the strings that
 * parseLocalDateTime accepts within LIMITS' years, less surrounding whitespace (which it trims), so
 * that generated strings are real dates. `[0-9]`, not `\d`: Python's and Rust's `\d` (Schemathesis
 * generates with one and checks with the other) match every Unicode digit. YEAR and LEAP_DAY spell
 * LIMITS' years out; test/api/openapi.test.ts fails if the two part.
 */
const YEAR = '(?:20[0-9]{2}|2100)';
const MONTH_DAY = [
  '(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])',
  '(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)',
  '02-(?:0[1-9]|1[0-9]|2[0-8])',
].join('|');
/** 29 February of the leap years 2000..2096 (2100 is not one). */
const LEAP_DAY = '20(?:[02468][048]|[13579][26])-02-29';
const TIME = 'T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]{1,9})?)?';
const OFFSET = '(?:[Zz]|[+-](?:(?:0[0-9]|1[0-7]):?[0-5][0-9]|18:?00))';
export const DATE_TIME_PATTERN = `^(?:${YEAR}-(?:${MONTH_DAY})|${LEAP_DAY})${TIME}${OFFSET}?$`;

/** A BE `LocalDateTime` in either serialisation, output as canonical ISO with offset. */
export const localDateTimeSchema = z
  .unknown()
  .transform((value, ctx) => {
    if (value === undefined || value === null) {
      ctx.addIssue({ code: 'custom', message: 'required date-time is missing' });
      return z.NEVER;
    }
    const parsed = parseLocalDateTime(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    if (parsed.value.year < LIMITS.minYear || parsed.value.year > LIMITS.maxYear) {
      ctx.addIssue({
        code: 'custom',
        message: `year ${parsed.value.year} is outside ${LIMITS.minYear}..${LIMITS.maxYear}`,
      });
      return z.NEVER;
    }
    return formatDateTime(parsed.value);
  })
  .meta({
    description:
      'A BE LocalDateTime: ISO-8601 text (offset optional; without one it is Asia/Seoul time), or the ' +
      'Jackson array [year, month, day, hour, minute, second?, nanosecond?]. Years ' +
      `${LIMITS.minYear}..${LIMITS.maxYear}, days that exist (29 February in leap years only), hours ` +
      '0..23, minutes and seconds 0..59, nanoseconds 0..999999999, offsets up to ±18:00; the API also ' +
      'trims whitespace around the text. OpenAPI 3.0 cannot bound array items per position, so the ' +
      'array items carry only the bounds that all positions share.',
    anyOf: [
      { type: 'string', pattern: DATE_TIME_PATTERN, example: '2025-06-16T09:00:00' },
      {
        type: 'array',
        items: { type: 'integer', minimum: 0, maximum: 999_999_999 },
        minItems: 5,
        maxItems: 7,
        example: [2025, 6, 16, 9, 0],
      },
    ],
  });

/** Java Long ids; beyond 2^53 a JSON number cannot be represented exactly, so it is rejected. */
const longId = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const title = z
  .string()
  .max(LIMITS.titleChars * 4, `title must be at most ${LIMITS.titleChars} characters`)
  .transform(normalizeText)
  .pipe(
    z
      .string()
      .min(1, 'title must not be blank')
      .max(LIMITS.titleChars, `title must be at most ${LIMITS.titleChars} characters`),
  )
  .meta({
    description:
      'Normalised before it is checked (NFC, control and format characters replaced by spaces, ' +
      `whitespace runs collapsed, trimmed), then 1..${LIMITS.titleChars} characters (code points, as ` +
      '`maxLength` counts them): it needs a character that is neither whitespace nor a control or ' +
      'format character. NFC lengthens a few texts (e.g. U+0958 becomes two characters).',
    pattern: TITLE_PATTERN,
    maxLength: LIMITS.titleChars,
  });
/** An optional list (absent or null: empty), with at most `max` entries when `max` is given. */
const listOf = <T extends z.ZodType>(item: T, max?: number) =>
  (max === undefined ? z.array(item) : z.array(item).max(max, `at most ${max} entries`))
    .nullish()
    .transform((v) => v ?? []);

export const personalChallengeSchema = z.object({
  id: longId,
  title,
  isSuccess: z.boolean(),
});

export const submissionSchema = z.object({
  isSuccess: z.boolean(),
  submittedAt: localDateTimeSchema,
});

export const groupChallengeSchema = z.object({
  id: longId,
  title,
  startDate: localDateTimeSchema,
  endDate: localDateTimeSchema,
  submissions: listOf(submissionSchema, LIMITS.submissionsPerGroupChallenge),
});

export const feedbackRequestSchema = z
  .object({
    memberId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    personalChallenges: listOf(personalChallengeSchema, LIMITS.personalChallenges),
    groupChallenges: listOf(groupChallengeSchema),
    /** Set by our API; absent on messages the BE puts on the queue itself. */
    requestId: z.uuid().optional(),
    /** When the request was made; set by our API. */
    timestamp: localDateTimeSchema.optional(),
  })
  .refine((r) => r.personalChallenges.length > 0 || r.groupChallenges.length > 0, {
    message: 'at least one of personalChallenges and groupChallenges must be non-empty',
    path: ['personalChallenges'],
  })
  // The refinement above, published (zod cannot translate a refine): one of the lists is non-empty.
  .meta({
    anyOf: (['personalChallenges', 'groupChallenges'] as const).map((list) => ({
      required: [list],
      properties: { [list]: { type: 'array', minItems: 1 } },
    })),
  });

export type FeedbackRequest = z.output<typeof feedbackRequestSchema>;
export type PersonalChallenge = z.output<typeof personalChallengeSchema>;
export type GroupChallenge = z.output<typeof groupChallengeSchema>;

export interface FieldError {
  /** JSON path like `groupChallenges[0].startDate`; empty for the whole body. */
  path: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** The one place a ZodError becomes field errors. */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

export function validateFeedbackRequest(input: unknown): Validation<FeedbackRequest> {
  const parsed = feedbackRequestSchema.safeParse(input);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, errors: toFieldErrors(parsed.error) };
}

/** Parses a raw message body: invalid JSON and schema violations are both field errors. */
export function parseFeedbackRequestBody(body: string): Validation<FeedbackRequest> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return {
      ok: false,
      errors: [{ path: '', message: `body is not valid JSON: ${(err as Error).message}` }],
    };
  }
  return validateFeedbackRequest(json);
}
