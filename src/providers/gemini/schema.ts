/**
 * JSON Schema (as OpenAI tools and `response_format` carry it) → Gemini `Schema` (an OpenAPI 3.0
 * subset). Gemini rejects keys outside its subset, so only the fields js-genai's converter supports are
 * kept (`supportedJsonSchemaFields` in `_transformers.ts`), minus `title` and `default`, which its docs
 * mark "not supported for Gemini API". Also:
 * - `type: ["string","null"]` → `type: "STRING", nullable: true`; several types → `anyOf`;
 * - `oneOf` → `anyOf`; `const` → a one-value `enum`; non-string enums are dropped (Gemini enums are strings);
 * - local `$ref` (`#/$defs/X`, `#/definitions/X`) is inlined, to a fixed depth (recursive schemas stop);
 * - `format` is kept only where Gemini accepts it (`enum`, `date-time`, `int32`, `int64`, `float`, `double`);
 * - `additionalProperties`, `$schema`, `strict`, `examples`, … are dropped.
 */
import { isRecord, type UnknownRecord } from '../shared/json.js';
import type { JsonObject } from '../types.js';

const COPIED_KEYS = [
  'description',
  'nullable',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'propertyOrdering',
] as const;
const FORMATS: ReadonlySet<string> = new Set(['enum', 'date-time', 'int32', 'int64', 'float', 'double']);
const MAX_REF_DEPTH = 8;

function resolveRef(ref: string, root: UnknownRecord): UnknownRecord | undefined {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!match) return undefined;
  const defs = root[match[1] as string];
  const target = isRecord(defs) ? defs[decodeURIComponent(match[2] as string)] : undefined;
  return isRecord(target) ? target : undefined;
}

function convertType(type: unknown, out: UnknownRecord): void {
  if (typeof type === 'string') {
    if (type === 'null') out.nullable = true;
    else out.type = type.toUpperCase();
    return;
  }
  if (!Array.isArray(type)) return;
  const types = type.filter((t): t is string => typeof t === 'string');
  if (types.includes('null')) out.nullable = true;
  const concrete = types.filter((t) => t !== 'null');
  if (concrete.length === 1) out.type = (concrete[0] as string).toUpperCase();
  else if (concrete.length > 1) out.anyOf = concrete.map((t) => ({ type: t.toUpperCase() }));
}

function convert(node: unknown, root: UnknownRecord, depth: number): UnknownRecord {
  if (!isRecord(node)) return {};
  if (typeof node.$ref === 'string') {
    const target = depth < MAX_REF_DEPTH ? resolveRef(node.$ref, root) : undefined;
    return target
      ? convert(
          { ...target, ...(typeof node.description === 'string' ? { description: node.description } : {}) },
          root,
          depth + 1,
        )
      : {};
  }
  const out: UnknownRecord = {};
  convertType(node.type, out);
  for (const key of COPIED_KEYS) {
    const value = node[key];
    if (value !== undefined) out[key] = value;
  }
  if (typeof node.format === 'string' && FORMATS.has(node.format)) out.format = node.format;
  const enumValues = node.const !== undefined ? [node.const] : node.enum;
  if (Array.isArray(enumValues) && enumValues.length > 0 && enumValues.every((v) => typeof v === 'string')) {
    out.enum = enumValues as string[];
    out.type ??= 'STRING';
  }
  if (isRecord(node.properties)) {
    const properties: UnknownRecord = {};
    for (const [name, child] of Object.entries(node.properties)) properties[name] = convert(child, root, depth);
    if (Object.keys(properties).length > 0) out.properties = properties;
    if (Array.isArray(node.required)) {
      const required = node.required.filter((name): name is string => typeof name === 'string' && name in properties);
      if (required.length > 0) out.required = required;
    }
  }
  const items = Array.isArray(node.items) ? node.items[0] : node.items;
  if (isRecord(items)) out.items = convert(items, root, depth);
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (alternatives) {
    const nonNull = alternatives.filter((alt) => !(isRecord(alt) && alt.type === 'null'));
    if (nonNull.length < alternatives.length) out.nullable = true;
    const converted = nonNull.map((alt) => convert(alt, root, depth));
    if (converted.length === 1) Object.assign(out, converted[0]);
    else if (converted.length > 1) out.anyOf = converted;
  }
  return out;
}

/**
 * Converts a JSON Schema to the Gemini subset; undefined for a non-object input.
 * @example toGeminiSchema({ type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false })
 * // { type: 'OBJECT', properties: { city: { type: 'STRING' } } }
 */
export function toGeminiSchema(schema: unknown): JsonObject | undefined {
  if (!isRecord(schema)) return undefined;
  return convert(schema, schema, 0) as JsonObject;
}

/**
 * Function `parameters` for a declaration, or undefined when there are none: Gemini rejects an OBJECT
 * schema with empty `properties`, and an omitted `parameters` means "no arguments".
 */
export function toGeminiParameters(schema: unknown): JsonObject | undefined {
  const converted = toGeminiSchema(schema);
  if (!converted || !isRecord(converted.properties)) return undefined;
  return converted;
}
