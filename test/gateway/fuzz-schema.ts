// Bodies that follow an operation's JSON schema but for one field (input-fuzz.test.ts): a body
// wrong everywhere stops at the first validator, while one nearly right reaches the handler,
// the Durable Object and the database with the one odd value.
import fc from "fast-check";
import { patternEdges } from "./fuzz-pattern";

/** A JSON schema, as much of one as the served document uses. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  example?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

export type Schemas = Record<string, Schema>;

const URLS = [
  "https://hooks.example.com/in",
  "https://receiver.plinth.test/x",
  "https://login.example.com",
  "http://127.0.0.1:1/x",
  "https://10.0.0.1/",
  "https://[::1]/",
  "https://xn--e1afmkfd.xn--p1ai/",
  "https://пример.рф/",
  "https://a.example.com:99999/",
  "ftp://example.com/",
];

const alnum = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789");
const word = fc.string({ unit: alnum, minLength: 1, maxLength: 12 });

function stringFor(s: Schema): fc.Arbitrary<string> {
  if (s.format === "email") {
    return fc.oneof(
      { weight: 4, arbitrary: word.map((w) => `${w}@example.com`) },
      fc.emailAddress(),
      fc.constantFrom("Ada@Example.COM ", "ü@例え.jp", "a@[127.0.0.1]", `${"a".repeat(64)}@example.com`),
    );
  }
  if (s.format === "date-time") {
    return fc.oneof(
      fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom("2026-02-30T00:00:00Z", "+275760-09-13T00:00:00.000Z", "2026-01-01T00:00:00+14:00"),
    );
  }
  if (s.format === "uri" || /url|uri|issuer|origin/.test(String(s.example ?? ""))) return fc.constantFrom(...URLS);
  const parts: fc.Arbitrary<string>[] = [];
  if (typeof s.example === "string") parts.push(fc.constant(s.example), fc.constant(s.example));
  if (s.pattern) {
    // A leading length lookahead (domains) is more than fast-check generates from; the rest is not.
    const pattern = s.pattern.replace(/^\^\(\?=[^)]*\)/, "^");
    try {
      const matching = fc.stringMatching(new RegExp(pattern)).filter((v) => v.length <= (s.maxLength ?? 253));
      parts.push(matching, matching);
    } catch {
      // A pattern fast-check cannot generate from: the example stands in.
    }
    // The pattern's own edges (fuzz-pattern.ts), which its random draws rarely reach: as likely
    // as the random ones, since a route admitting what its object refuses fails only there.
    const edges = patternEdges(s.pattern, s.minLength, s.maxLength);
    if (edges.length > 0) parts.push(fc.constantFrom(...edges), fc.constantFrom(...edges));
  }
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 40, Math.max(min, 40));
  if (!s.pattern) parts.push(fc.string({ unit: alnum, minLength: min, maxLength: max }));
  parts.push(fc.string({ unit: "grapheme", minLength: min, maxLength: max }));
  // The bound itself, which random lengths rarely reach: a route that admits its maxLength must not
  // hand an object a value its contract refuses (a 500), counted in characters or, for "é", bytes.
  if (!s.pattern && s.maxLength !== undefined && s.maxLength >= min && s.maxLength <= 8192) {
    parts.push(fc.constantFrom("a".repeat(s.maxLength), "é".repeat(s.maxLength)));
  }
  return fc.oneof(...parts);
}

/** An integer within [min, max], the bounds themselves among the draws (random ones rarely are). */
function integerWithin(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
}

/**
 * Stands for the seeded tenant's id in a body (fuzz-inputs.ts puts the id in its place), so the
 * platform-wide operations that take a `tenant_id` (replays, re-encryption) act on that tenant
 * alone, not on the tenants of the test files that share the suite's storage.
 */
export const TENANT_PLACEHOLDER = "__seeded_tenant__";

/** Stands for the stream of the seeded tenant's post (`<tenant>/post/<id>`), where a body names a stream. */
export const STREAM_PLACEHOLDER = "__seeded_stream__";

const permissions = fc.constantFrom("blog.post.read", "blog.post.create", "admin.keys.read", "identity.user.read");
// What the schema cannot say: the values the platform knows by name, for the fields that take them.
const HINTS: Record<string, fc.Arbitrary<unknown>> = {
  scopes: fc.array(permissions, { minLength: 1, maxLength: 3 }),
  permissions: fc.array(permissions, { maxLength: 3 }),
  roles: fc.array(fc.constantFrom("member", "viewer", "editor"), { minLength: 1, maxLength: 2 }),
  events: fc.array(fc.constantFrom("blog.post.*", "blog.*", "identity.user.registered"), {
    minLength: 1,
    maxLength: 2,
  }),
  url: fc.constantFrom(...URLS),
  issuer: fc.constantFrom(...URLS),
  allowed_domains: fc.array(fc.constantFrom("example.com", "xn--e1afmkfd.xn--p1ai", "a.b.c"), { minLength: 1 }),
  domains: fc.array(fc.constantFrom("example.com", "xn--e1afmkfd.xn--p1ai"), { maxLength: 2 }),
  cors_origins: fc.array(fc.constantFrom("https://app.example.com", "http://localhost:3000", "null"), { maxLength: 2 }),
  tenant_id: fc.constant(TENANT_PLACEHOLDER),
  consumer: fc.constantFrom("blog:blog.posts", "audit:audit.entries"),
  // A replay cursor on a stream that exists, so the position reaches its Aggregate: past the safe
  // integers (the 500 a route once let through to the object), at the last one, and at 0.
  after: fc.constantFrom(
    `99999999999999999999@${STREAM_PLACEHOLDER}`,
    `${Number.MAX_SAFE_INTEGER}@${STREAM_PLACEHOLDER}`,
    `0@${STREAM_PLACEHOLDER}`,
    TENANT_PLACEHOLDER,
  ),
};

/** Values valid (or nearly) for `schema`. */
export function validFor(schema: Schema, schemas: Schemas, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  if (schema.$ref) return validFor(schemas[schema.$ref.split("/").at(-1) ?? ""] ?? {}, schemas, depth + 1);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.allOf) {
    return fc
      .tuple(...schema.allOf.map((s) => validFor(s, schemas, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => typeof p === "object" && p !== null)));
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => validFor(s, schemas, depth + 1)));
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? (schema.properties ? "object" : "string")];
  return fc.oneof(...types.map((t) => ofType(t, schema, schemas, depth)));
}

function ofType(type: string, s: Schema, schemas: Schemas, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return integerWithin(s.minimum ?? -1000, s.maximum ?? 1_000_000);
    case "number":
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true });
    case "array": {
      const items = validFor(s.items ?? {}, schemas, depth + 1);
      const few = fc.array(items, {
        minLength: s.minItems ?? 0,
        maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)),
      });
      // As many items as the route admits (when that is few enough to send), not only a few.
      if (s.maxItems === undefined || s.maxItems <= 3 || s.maxItems > 100) return few;
      return fc.oneof(few, fc.array(items, { minLength: s.maxItems, maxLength: s.maxItems }));
    }
    case "object": {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record = fc.record(
        Object.fromEntries(
          Object.entries(props).map(([k, v]) => {
            const hint = HINTS[k];
            const valid = validFor(v, schemas, depth + 1);
            return [k, hint ? fc.oneof({ weight: 3, arbitrary: hint }, valid) : valid];
          }),
        ),
        { requiredKeys: Object.keys(props).filter((k) => required.has(k)) },
      );
      if (typeof s.additionalProperties !== "object") return record;
      const extra = fc.dictionary(
        fc.constantFrom("principal", "tenant", "login", "mail", "x"),
        validFor(s.additionalProperties, schemas, depth + 1),
        { maxKeys: 2 },
      );
      return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
    }
    default:
      return stringFor(s);
  }
}

/** A value to put where a valid one was: wrong type, odd text, a lone surrogate, huge or deep. */
const misfit = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 1,
    "",
    " ",
    "\u0000",
    "\ud800",
    "\udfff",
    "a\ud83d",
    "\u202e",
    "😀".repeat(300),
    "%00",
    "../..",
    [],
    {},
    [null],
    { __proto__: null, constructor: "x" },
  ),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.integer({ min: 1000, max: 300_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 10, max: 2000 }).map((n) => JSON.parse(`${"[".repeat(n)}${"]".repeat(n)}`) as unknown),
);

type Container = Record<string, unknown> | unknown[];

/** Every object and array inside `value` (itself included), each with its keys: the places a misfit can go. */
function containers(value: unknown, out: Container[] = []): Container[] {
  if (typeof value !== "object" || value === null) return out;
  out.push(value as Container);
  for (const v of Object.values(value)) containers(v, out);
  return out;
}

/**
 * JSON bodies for `schema` with one thing wrong, at any depth: a value swapped for a misfit, a
 * field dropped, a stray field added, or (two times in seven) nothing wrong.
 */
export function nearlyValidBody(schema: Schema, schemas: Schemas): fc.Arbitrary<string> {
  return fc
    .tuple(validFor(schema, schemas), fc.nat(), fc.nat(), misfit, fc.integer({ min: 0, max: 6 }))
    .map(([valid, where, pick, odd, how]) => {
      // A fresh copy: the valid value may be shared with fast-check's shrinker.
      const body: unknown = JSON.parse(JSON.stringify(valid ?? null));
      const places = containers(body);
      const place = places[where % Math.max(1, places.length)];
      if (place === undefined || how >= 4) return JSON.stringify(body);
      const keys = Object.keys(place);
      const key = keys[pick % Math.max(1, keys.length)];
      if (Array.isArray(place)) {
        if (how === 0 && key !== undefined) place.splice(Number(key), 1);
        else if (how === 1) place.push(odd);
        else if (key !== undefined) place[Number(key)] = odd;
      } else if (how === 0 && key !== undefined) delete place[key];
      else if (how === 1) place[`stray_${pick % 7}`] = odd;
      else if (key !== undefined) place[key] = odd;
      return JSON.stringify(body);
    });
}
