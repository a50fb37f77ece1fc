/**
 * Values that a schema of the published OpenAPI 3.0 document describes, as fast-check arbitraries: the
 * keywords buildOpenApiDocument emits (object, array, string with pattern, integer with bounds,
 * boolean, enum, nullable, anyOf), so that a test can check that whatever the document describes, the
 * API accepts. Unknown keywords fail loudly rather than being ignored (an ignored one would widen what
 * is drawn past what the document says).
 */
import fc from 'fast-check';

export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  anyOf?: OpenApiSchema[];
  description?: string;
  example?: unknown;
}

export interface DrawOptions {
  /** anyOf branches not to draw from: one whose rule the document can only state in its description. */
  skipBranch?: (branch: OpenApiSchema) => boolean;
  /** Arrays get at most this many items: the count bounds are checked elsewhere, and big bodies are slow. */
  maxDrawnItems?: number;
}

const KNOWN = new Set([
  'type',
  'nullable',
  'enum',
  'properties',
  'required',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'anyOf',
  'description',
  'example',
]);

/** A schema and one anyOf branch of it at once (allOf): the branch's properties narrow the schema's. */
function narrow(schema: OpenApiSchema, branch: OpenApiSchema): OpenApiSchema {
  const properties = { ...schema.properties };
  for (const [name, property] of Object.entries(branch.properties ?? {})) {
    const base = properties[name] ?? {};
    // In OpenAPI 3.0 a schema with a type and no `nullable` refuses null: so does their intersection.
    const nullable =
      (base.nullable ?? false) && (property.type === undefined || (property.nullable ?? false));
    properties[name] = { ...base, ...property, nullable };
  }
  return {
    ...schema,
    anyOf: undefined,
    properties,
    required: [...new Set([...(schema.required ?? []), ...(branch.required ?? [])])],
  };
}

/** JSON Schema counts a string's length in code points. */
const codePoints = (s: string) => [...s].length;

export function arbitraryOf(schema: OpenApiSchema, options: DrawOptions = {}): fc.Arbitrary<unknown> {
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`keywords not drawn: ${unknown.join(', ')}`);
  const draw = (s: OpenApiSchema) => arbitraryOf(s, options);
  const branches = (schema.anyOf ?? []).filter((b) => !options.skipBranch?.(b));
  if (schema.anyOf && branches.length === 0) throw new Error('every anyOf branch is skipped');

  let value: fc.Arbitrary<unknown>;
  if (schema.anyOf && schema.type !== undefined) {
    // Branches that narrow a typed schema (the request's "one list is non-empty").
    value = fc.oneof(...branches.map((b) => draw(narrow(schema, b))));
  } else if (schema.anyOf) {
    value = fc.oneof(...branches.map(draw));
  } else if (schema.enum) {
    value = fc.constantFrom(...schema.enum);
  } else if (schema.type === 'object') {
    const properties = schema.properties ?? {};
    const known = fc.record(
      Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, draw(p)])),
      { requiredKeys: schema.required ?? [] },
    );
    // The document does not forbid other properties (the validator drops them): a few are drawn.
    const extra = fc.dictionary(
      fc.string().filter((k) => !(k in properties)),
      fc.jsonValue({ maxDepth: 1 }),
      { maxKeys: 2 },
    );
    value = fc.tuple(extra, known).map(([e, k]) => ({ ...e, ...k }));
  } else if (schema.type === 'array') {
    if (!schema.items) throw new Error('an array without items');
    const minLength = schema.minItems ?? 0;
    const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? Infinity, options.maxDrawnItems ?? 3));
    value = fc.array(draw(schema.items), { minLength, maxLength });
  } else if (schema.type === 'string') {
    const text = schema.pattern
      ? fc.stringMatching(new RegExp(schema.pattern, 'u')) // `u`: as JSON Schema validators read it
      : fc.string({ unit: 'binary', maxLength: schema.maxLength });
    value = text.filter(
      (s) => codePoints(s) >= (schema.minLength ?? 0) && codePoints(s) <= (schema.maxLength ?? Infinity),
    );
  } else if (schema.type === 'integer') {
    const min = (schema.minimum ?? Number.MIN_SAFE_INTEGER) + (schema.exclusiveMinimum ? 1 : 0);
    const max = (schema.maximum ?? Number.MAX_SAFE_INTEGER) - (schema.exclusiveMaximum ? 1 : 0);
    // fc.integer is 32-bit; ids and memberId go up to 2^53 - 1.
    value = fc.bigInt(BigInt(min), BigInt(max)).map(Number);
  } else if (schema.type === 'boolean') {
    value = fc.boolean();
  } else {
    throw new Error(`no arbitrary for ${JSON.stringify(schema).slice(0, 80)}`);
  }
  return schema.nullable ? fc.oneof(fc.constant(null), value) : value;
}
