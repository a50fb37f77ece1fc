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

/** NFC, unsafe characters replaced by spaces, whitespace runs collapsed, trimmed. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(UNSAFE_CHARACTERS, ' ').replace(/\s+/g, ' ').trim();
}

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
      'Jackson array [year, month, day, hour, minute, second?, nanosecond?].',
    anyOf: [
      { type: 'string', example: '2025-06-16T09:00:00' },
      { type: 'array', items: { type: 'integer' }, minItems: 5, maxItems: 7, example: [2025, 6, 16, 9, 0] },
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
  );
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
