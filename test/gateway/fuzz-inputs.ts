// Garbage requests for the OpenAPI walk (input-fuzz.test.ts): each operation of the served
// document becomes a fast-check arbitrary of requests whose path, query, headers and body
// are wrong in the ways clients get them wrong, or attackers make them wrong on purpose.
import fc from "fast-check";
import type { FuzzRequest, Operation } from "./fuzz-operations";
import {
  type Schema as BodySchema,
  nearlyValidBody,
  STREAM_PLACEHOLDER,
  TENANT_PLACEHOLDER,
  validFor,
} from "./fuzz-schema";
import { encodeSegment, oddHeader, oddText, pathSegment, queryValue } from "./fuzz-values";

/** A parameter's value as its schema draws it (fuzz-schema.ts: its bounds and its pattern's edges among them), as URL text. */
function paramValue(op: Operation, schema: BodySchema): fc.Arbitrary<string> {
  return validFor(schema, op.schemas).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
}

/** The declared query parameters with a schema, some of them, each with a value it admits. */
function schemaQuery(op: Operation): fc.Arbitrary<(readonly [string, string])[]> {
  const declared = op.queryParams.filter((name) => op.paramSchemas[`query:${name}`] !== undefined);
  if (declared.length === 0) return fc.constant([]);
  const each = declared.map((name) =>
    fc.option(
      paramValue(op, op.paramSchemas[`query:${name}`] ?? {}).map((v) => [name, v] as const),
      { nil: undefined },
    ),
  );
  return fc.tuple(...each).map((pairs) => pairs.filter((p) => p !== undefined));
}

function queryOf(op: Operation) {
  const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...op.queryParams, "limit", "cursor") }, oddText);
  const garbage = fc.array(fc.tuple(key, queryValue), { maxLength: 5 });
  // Parameters as their schemas take them, with at most one garbage pair: like a nearly valid body,
  // a query right but for one value reaches the handler with it.
  const nearly = fc
    .tuple(schemaQuery(op), fc.array(fc.tuple(key, queryValue), { maxLength: 1 }))
    .map(([valid, odd]) => [...valid, ...odd]);
  return fc.oneof(garbage, nearly).map(queryString);
}

function queryString(pairs: (readonly [string, string])[]): string {
  // Repeated keys are kept: `?limit=1&limit=x` is one of the cases.
  const qs = pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join("&");
  return qs ? `?${qs}` : "";
}

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "APPLICATION/JSON",
  "application/json;",
  "application/json; boundary=x; charset=latin1",
  "application/problem+json",
  "application/merge-patch+json",
  "application/json, text/html",
];
const OTHER_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "",
  ";;;",
  "json",
  "image/png",
];

/** Values of the right type and near-right form, so some bodies get past the schema. */
const PLAUSIBLE = fc.constantFrom(
  "ada@example.com",
  " Ada@Example.COM ",
  "a@b",
  "correct horse battery staple",
  "https://hooks.example.com/in",
  "https://receiver.plinth.test/x",
  "http://127.0.0.1/x",
  "https://10.0.0.1/",
  "https://[::1]/",
  "javascript:alert(1)",
  "blog.post.read",
  "blog.*",
  "*",
  "owner",
  "member",
  "2026-01-01T00:00:00Z",
  "2026-13-45T99:99:99Z",
  "1970-01-01T00:00:00Z",
  "open",
  "invite_only",
  "domains",
  "free",
  "pro",
  "published",
  "blog:blog.posts",
  "123456",
  "plk_x",
  1,
  100,
  604800,
  604801,
);

/** Any JSON, of the wrong types for most schemas. */
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** An object with the schema's field names bound to wrong (or right) types, plus stray fields. */
function objectBody(op: Operation) {
  const known = op.bodyProps.length > 0 ? op.bodyProps : ["name"];
  const value = fc.oneof(
    anyJson,
    oddText,
    PLAUSIBLE,
    fc.array(PLAUSIBLE, { maxLength: 3 }),
    fc.constantFrom(1e308, -1, 0, 2 ** 53 + 1, 1.5, true, null, [], {}),
    fc.array(oddText, { maxLength: 3 }),
  );
  return fc
    .tuple(fc.dictionary(fc.constantFrom(...known), value, { maxKeys: known.length }), fc.dictionary(oddText, value))
    .map(([fields, extra]) => JSON.stringify({ ...extra, ...fields }));
}

const brokenJson = fc.oneof(
  fc.constantFrom(
    "{",
    '{"a":',
    "nul",
    "{a:1}",
    "{'a':1}",
    '{"a":1,}',
    "[1,]",
    "\ufeff{}",
    "\u0000",
    "",
    " ",
    "NaN",
    "1e309",
    '"\\ud800"',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '{"a":1}{"b":2}',
  ),
  fc.string({ unit: "grapheme", maxLength: 60 }),
);

/** Large, still under the 1 MiB body limit. */
function hugeBody(op: Operation) {
  return fc
    .tuple(
      fc.constantFrom(...(op.bodyProps.length > 0 ? op.bodyProps : ["name"])),
      fc.integer({ min: 10_000, max: 1_000_000 }),
    )
    .map(([prop, n]) => JSON.stringify({ [prop]: "x".repeat(n) }));
}

/** Just over the 1 MiB body limit: a 413, however it arrives. */
const oversizeBody = fc.integer({ min: 1, max: 4096 }).map((n) => JSON.stringify({ name: "x".repeat(1_048_576 + n) }));

/** Deep nesting of arrays or objects, still under the body limit. */
const deepBody = fc
  .tuple(fc.integer({ min: 1_000, max: 100_000 }), fc.boolean(), fc.constantFrom("", "name", "email"))
  .map(([depth, arrays, prop]) => {
    const inner = arrays ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    return prop ? `{"${prop}":${inner}}` : inner;
  });

const invalidUtf8 = fc.constantFrom(
  new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  new Uint8Array([0xc0, 0xaf]),
  new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
);

type Body = { body?: string | Uint8Array; type?: string };

/** JSON bodies with one thing wrong (fuzz-schema.ts), `tenant_id`s and streams naming the seeded tenant's. */
function nearlyBodies(op: Operation, schema: BodySchema, creds: Credentials): fc.Arbitrary<Body> {
  return nearlyValidBody(schema, op.schemas).map((body) => ({
    body: body.replaceAll(STREAM_PLACEHOLDER, creds.stream).replaceAll(TENANT_PLACEHOLDER, creds.tenantId),
    type: "application/json",
  }));
}

function bodyOf(op: Operation, creds: Credentials): fc.Arbitrary<Body> {
  const takesJson = op.bodyTypes.includes("application/json");
  const json = (text: fc.Arbitrary<string | Uint8Array>) =>
    fc.tuple(text, fc.constantFrom(...JSON_TYPES)).map(([body, type]) => ({ body, type: type as string | undefined }));
  const variants: fc.Arbitrary<Body>[] = [
    json(objectBody(op)),
    json(anyJson.map((v) => JSON.stringify(v))),
    json(brokenJson),
    json(invalidUtf8),
    fc
      .tuple(fc.oneof(objectBody(op), brokenJson), fc.option(fc.constantFrom(...OTHER_TYPES), { nil: undefined }))
      .map(([body, type]) => ({ body, type })),
    fc.constant<Body>({}),
  ];
  if (takesJson || op.bodyTypes.length > 0) variants.push(json(hugeBody(op)), json(deepBody), json(oversizeBody));
  if (op.bodySchema) {
    const nearly = nearlyBodies(op, op.bodySchema, creds);
    // As likely as all the other kinds together: these are the bodies that reach the handler.
    variants.push(...variants.map(() => nearly));
  }
  // A body for an operation that takes none is still sent, less often.
  return op.bodyTypes.length > 0
    ? fc.oneof(...variants)
    : fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, ...variants);
}

/** Credentials the walk holds: the seeded tenant's admin key and owner's access token, its slug, the root key. */
export interface Credentials {
  tenantId: string;
  adminKey: string;
  ownerToken: string;
  rootKey: string;
  slug: string;
  /** The stream of the seeded tenant's post, `<tenant>/post/<id>`. */
  stream: string;
}

/** The credentials that reach an operation's validation: the root key on platform routes. */
export function credentialsFor(op: Operation, creds: Credentials): string[] {
  if (!op.secured) return [];
  return op.path.startsWith("/api/v1/platform/") ? [creds.rootKey] : [creds.adminKey, creds.ownerToken];
}

// Digest fields (RFC 9530) and their wants, right and wrong, for the operations that declare them.
const DIGESTS = [
  "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
  "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:;p=1",
  "sha-256=:AAAA:",
  "sha-256=:////////////////////////////////////////////=:",
  "sha-512=:x:",
  "sha-256=?",
  "sha-256",
  "sha-256=10, sha-512=3",
  "sha-256=11",
  "sha-256=-1",
  "unixsum=1",
  ",,,",
];

/** Odd values for the operation's own declared headers and cookies. */
function declaredHeadersOf(op: Operation) {
  const value = fc.oneof(fc.constantFrom(...DIGESTS), oddHeader);
  const headers = fc.tuple(...op.headerParams.map((name) => fc.option(value.map((v) => [name, v] as const))));
  const cookies = fc.tuple(...op.cookieParams.map((name) => fc.option(oddHeader.map((v) => `${name}=${v}`))));
  return fc.tuple(headers, cookies).map(([hs, cs]) => {
    const out: Record<string, string> = Object.fromEntries(hs.filter((h) => h !== null));
    const cookie = cs.filter((c) => c !== null).join("; ");
    if (cookie) out.cookie = cookie;
    return out;
  });
}

function headersOf(op: Operation, creds: Credentials) {
  const tokens = credentialsFor(op, creds).map((t) => `Bearer ${t}`);
  const auth = fc.oneof(
    { weight: 8, arbitrary: tokens.length > 0 ? fc.constantFrom(...tokens) : fc.constant(undefined) },
    fc.constantFrom(
      undefined,
      "Bearer ",
      "Bearer plk_garbage",
      "Basic Zm9vOmJhcg==",
      "bearer",
      `Bearer ${creds.adminKey}x`,
    ),
    oddHeader.map((h) => `Bearer ${h}`),
  );
  const tenant = fc.oneof({ weight: 6, arbitrary: fc.constant(creds.slug) }, fc.constant(undefined), oddHeader);
  const opt = (a: fc.Arbitrary<string>) => fc.option(a, { nil: undefined, freq: 2 });
  return fc
    .record({
      authorization: auth,
      "x-tenant": tenant,
      "if-match": opt(oddHeader),
      "idempotency-key": opt(oddHeader),
      "x-request-id": opt(oddHeader),
      accept: opt(fc.constantFrom("*/*", "application/json", "text/html", "application/problem+json", "", "x")),
      declared: declaredHeadersOf(op),
    })
    .map(({ declared, ...h }) => ({
      ...declared,
      ...(Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>),
    }));
}

/** JSON.stringify's replacer for printing: strings past 200 characters, and bytes, summarised. */
function clip(_key: string, value: unknown): unknown {
  if (typeof value === "string" && value.length > 200) return `${value.slice(0, 120)}…(${value.length} chars)`;
  if (value instanceof Uint8Array) return `bytes[${[...value].join(",")}]`;
  return value;
}

/** Garbage requests for `op`, authenticated so that validation is reached. */
export function requestsFor(op: Operation, creds: Credentials, realIds: string[]): fc.Arbitrary<FuzzRequest> {
  const segment =
    realIds.length > 0
      ? fc.oneof({ weight: 3, arbitrary: pathSegment }, { weight: 2, arbitrary: fc.constantFrom(...realIds) })
      : pathSegment;
  // A parameter with a pattern (a role's name, a job's module) also takes what the pattern admits,
  // its edges among them: the real ids cover the others.
  const patterned = (name: string) => {
    const schema = op.paramSchemas[`path:${name}`];
    return schema?.pattern ? paramValue(op, schema).map(encodeSegment) : undefined;
  };
  const withPattern = (name: string, other: fc.Arbitrary<string>) => {
    const own = patterned(name);
    return own ? fc.oneof({ weight: 2, arbitrary: other }, own) : other;
  };
  const segments = fc.tuple(...op.pathParams.map((name) => withPattern(name, segment)));
  const tokens = credentialsFor(op, creds);
  // What a well-formed request would carry instead of each garbage part.
  const clean = {
    segments: fc.tuple(
      ...op.pathParams.map((name) => withPattern(name, realIds.length > 0 ? fc.constantFrom(...realIds) : segment)),
    ),
    headers: (tokens.length > 0 ? fc.constantFrom(...tokens) : fc.constant(undefined)).map((t) => ({
      ...(t === undefined ? {} : { authorization: `Bearer ${t}` }),
      "x-tenant": creds.slug,
    })),
    // The declared parameters as their schemas take them (or none), not garbage.
    query: schemaQuery(op).map(queryString),
    body: op.bodySchema ? nearlyBodies(op, op.bodySchema, creds) : fc.constant<Body>({}),
  };
  return fc
    .record({
      // One part garbage and the rest well-formed, so each garbage part meets the code behind
      // the checks of the others; or every part garbage at once.
      focus: fc.constantFrom("path", "query", "headers", "body", "all"),
      chunked: fc.boolean(),
      segments: op.pathParams.length > 0 ? segments : fc.constant([] as string[]),
      cleanSegments: clean.segments,
      query: queryOf(op),
      cleanQuery: clean.query,
      headers: headersOf(op, creds),
      cleanHeaders: clean.headers,
      body: bodyOf(op, creds),
      cleanBody: clean.body,
    })
    .map((r) => {
      const every = r.focus === "all";
      const segments = every || r.focus === "path" ? r.segments : r.cleanSegments;
      const query = every || r.focus === "query" ? r.query : r.cleanQuery;
      const headers = every || r.focus === "headers" ? r.headers : r.cleanHeaders;
      const body = every || r.focus === "body" ? r.body : r.cleanBody;
      let path = op.path;
      op.pathParams.forEach((name, i) => {
        path = path.replace(`{${name}}`, segments[i] ?? "x");
      });
      const all: Record<string, string> = { ...headers };
      if (body.type !== undefined) all["content-type"] = body.type;
      // fetch refuses a GET with a body before it is sent: the walk sends those bodiless.
      const sent = op.method === "GET" ? undefined : body.body;
      const req: FuzzRequest = {
        url: `${path}${query}`,
        method: op.method,
        headers: all,
        body: sent,
        chunked: r.chunked,
      };
      // fast-check prints a counterexample with this: long values cut, so a failure stays readable.
      // The credentials by name: a failure's output is no place for a key, even a test's.
      // Named before the cut: a token past 200 characters cut first was no longer found, and its head was shown.
      const named = (value: string) =>
        value
          .replaceAll(creds.rootKey, "<root key>")
          .replaceAll(creds.adminKey, "<admin key>")
          .replaceAll(creds.ownerToken, "<owner token>");
      const shown = () => JSON.stringify(req, (k, v: unknown) => clip(k, typeof v === "string" ? named(v) : v));
      return Object.assign(req, { [fc.toStringMethod]: shown });
    });
}
