import { invalidParam, READER_MAY, SAMPLE_BODIES, validParam } from "./samples";
import type { Call, DocOperation, ServedDocument } from "./sweep";
import type { Fixtures } from "./valid";

// Over the 1 MiB MAX_BODY_BYTES of wrangler.toml, and the 1 MiB FILES_MAX_BYTES the sweep's Worker runs with.
const OVERSIZE_BYTES = 2 * 1024 * 1024;

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** A body of raw bytes: every media type it lists has a `format: binary` string schema. */
function isBinary(content: Record<string, unknown>): boolean {
  const types = Object.values(content);
  return (
    types.length > 0 &&
    types.every((t) => {
      const schema = typeof t === "object" && t !== null && "schema" in t ? t.schema : undefined;
      return typeof schema === "object" && schema !== null && "format" in schema && schema.format === "binary";
    })
  );
}

/** What the error requests of one operation are built from. */
interface Shape {
  op: string;
  path: string;
  doc: DocOperation;
  platform: boolean;
  /** The kernel resolves a tenant here (every /api/v1 path but the platform's). */
  tenanted: boolean;
  /** The route needs a tenant. */
  tenantScoped: boolean;
  secured: boolean;
  /** Headers that get a request past credentials and tenant: the root key, a user's token, the admin key, or X-Tenant. */
  pass: Record<string, string>;
  params: Record<string, string>;
  body: unknown;
}

function shapeOf(path: string, method: string, doc: DocOperation, fx: Fixtures): Shape {
  const op = `${method.toUpperCase()} ${path}`;
  const platform = under(path, "/api/v1/platform");
  const system = under(path, "/api/v1/system");
  const secured = (doc.security ?? []).some((r) => Object.keys(r).length > 0);
  // The routes of a signed-in user's own account (the `user` scheme) refuse every key, before validation.
  const usersOnly = (doc.security ?? []).some((r) => "user" in r);
  const pathParams = (doc.parameters ?? []).filter((p) => p.in === "path");
  let pass: Record<string, string> = {};
  if (platform) pass = { authorization: `Bearer ${fx.rootKey}` };
  else if (usersOnly) pass = { authorization: `Bearer ${fx.access}` };
  else if (secured) pass = { authorization: `Bearer ${fx.adminKey}` };
  else if (!system) pass = { "x-tenant": fx.slug };
  return {
    op,
    path,
    doc,
    platform,
    tenanted: !platform,
    tenantScoped: !platform && !system,
    secured,
    pass,
    params: Object.fromEntries(pathParams.map((p) => [p.name, validParam(path, p.name, fx.ids)])),
    body: SAMPLE_BODIES[op],
  };
}

/**
 * The requests about credentials and tenants, which every /api/v1 operation
 * answers alike. The kernel refuses them before it reads a body, so they send
 * none, except where the refusal comes after validation (a handler's tenant or
 * permission check).
 */
function accessCalls(s: Shape, fx: Fixtures): Call[] {
  const base = { op: s.op, intent: "error" as const, params: s.params };
  const calls: Call[] = [];
  if (s.secured) {
    const headers: Record<string, string> = s.tenantScoped ? { "x-tenant": fx.slug } : {};
    calls.push({ ...base, label: "no credential", expect: 401, code: "unauthenticated", headers });
  }
  calls.push({
    ...base,
    label: "unknown API key",
    expect: 401,
    code: "unauthenticated",
    headers: { authorization: "Bearer plk_unknown0000000000000000" },
  });
  calls.push({
    ...base,
    label: s.platform ? "a tenant's API key on a platform route" : "the platform root key off the platform",
    expect: 403,
    code: "forbidden",
    headers: { authorization: `Bearer ${s.platform ? fx.adminKey : fx.rootKey}` },
  });
  if (s.tenanted) {
    calls.push({
      ...base,
      label: "X-Tenant naming no tenant",
      expect: 404,
      code: "tenant_not_found",
      headers: { "x-tenant": "no-such-tenant" },
    });
    calls.push({
      ...base,
      label: "a key of one tenant, X-Tenant of another",
      expect: 403,
      code: "tenant_mismatch",
      headers: { authorization: `Bearer ${fx.adminKey}`, "x-tenant": fx.otherSlug },
    });
  }
  if (s.tenantScoped && !s.secured) {
    calls.push({ ...base, label: "no tenant named", expect: 400, code: "tenant_required", headers: {}, json: s.body });
  }
  if (s.secured && s.tenantScoped && !READER_MAY.has(s.op)) {
    calls.push({
      ...base,
      label: "a key without the permission",
      expect: 403,
      code: "forbidden",
      headers: { authorization: `Bearer ${fx.readerKey}` },
      json: s.body,
    });
  }
  return calls;
}

/** The requests about input: parameters, body, media type, size, If-Match. */
function inputCalls(s: Shape): Call[] {
  const base = { op: s.op, intent: "error" as const, params: s.params, headers: s.pass };
  const invalid = { expect: 400, code: "validation_failed" };
  const calls: Call[] = [];
  const declared = s.doc.parameters ?? [];
  const pathParams = declared.filter((p) => p.in === "path");
  if (pathParams.length > 0) {
    const params = Object.fromEntries(pathParams.map((p) => [p.name, invalidParam(p.name)]));
    calls.push({ ...base, ...invalid, label: "path parameter out of its schema", params, json: s.body });
  }
  if (declared.some((p) => p.in === "query" && p.name === "limit")) {
    calls.push({ ...base, ...invalid, label: "limit=0", query: { limit: "0" } });
  }
  const content = s.doc.requestBody?.content ?? {};
  if (s.doc.requestBody && isBinary(content)) {
    // Raw bytes of listed types (a file upload): nothing to malform, another type is 415, size is the route's own.
    calls.push(
      {
        ...base,
        label: "a media type not listed",
        expect: 415,
        code: "unsupported_media_type",
        headers: { ...s.pass, "content-type": "application/x-undeclared" },
        raw: "hello",
      },
      {
        ...base,
        label: "2 MiB body",
        expect: 413,
        code: "payload_too_large",
        direct: true,
        headers: { ...s.pass, "content-type": Object.keys(content)[0] ?? "", expect: "100-continue" },
        raw: Buffer.alloc(OVERSIZE_BYTES, " "),
      },
    );
  } else if (s.doc.requestBody) {
    calls.push(
      { ...base, ...invalid, label: "body not an object", json: [] },
      {
        ...base,
        label: "text/plain body",
        expect: 415,
        code: "unsupported_media_type",
        headers: { ...s.pass, "content-type": "text/plain" },
        raw: "hello",
      },
      // Prism never answers a malformed JSON body and hangs on an oversize one: these two go around it.
      {
        ...base,
        ...invalid,
        label: "malformed JSON",
        direct: true,
        headers: { ...s.pass, "content-type": "application/json" },
        raw: '{"unterminated": ',
      },
      {
        ...base,
        label: "2 MiB body",
        expect: 413,
        code: "payload_too_large",
        direct: true,
        headers: { ...s.pass, "content-type": "application/json", expect: "100-continue" },
        raw: Buffer.alloc(OVERSIZE_BYTES, " "),
      },
    );
  }
  // Not where a required query holds the credential (a signed file URL): the sweep has no valid one to
  // send, so validation answers first; test/files/preconditions.test.ts weighs If-Match there.
  const queryRequired = declared.some((p) => p.in === "query" && p.required);
  if (!queryRequired && declared.some((p) => p.in === "header" && p.name.toLowerCase() === "if-match")) {
    // The resource must exist for If-Match to be weighed: the path's live id (validParam).
    const onLive = { ...base, json: s.body, params: s.params };
    calls.push(
      {
        ...onLive,
        label: "stale If-Match",
        expect: 412,
        code: "version_conflict",
        headers: { ...s.pass, "if-match": '"99"' },
      },
      { ...onLive, ...invalid, label: "If-Match not a version", headers: { ...s.pass, "if-match": "soon" } },
    );
  }
  if (
    !queryRequired &&
    s.op.startsWith("GET ") &&
    declared.some((p) => p.in === "header" && p.name.toLowerCase() === "if-none-match")
  ) {
    // A revalidation: `*` names whatever the live resource is at, so the kernel answers 304 (kernel/http/not-modified.ts).
    calls.push({
      ...base,
      label: "If-None-Match: * (revalidation)",
      expect: 304,
      headers: { ...s.pass, "if-none-match": "*" },
    });
  }
  return calls;
}

/**
 * The error requests of every /api/v1 operation in the document, derived
 * from what it declares: credentials, tenant, permission, parameters, body,
 * media type, size and If-Match. Each expects its status and problem code.
 */
export function errorCalls(doc: ServedDocument, fx: Fixtures): Call[] {
  const calls: Call[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!under(path, "/api/v1")) continue;
    for (const [method, op] of Object.entries(item)) {
      const shape = shapeOf(path, method, op, fx);
      calls.push(...accessCalls(shape, fx), ...inputCalls(shape));
    }
  }
  return calls;
}

/** Operations with a body but no entry in SAMPLE_BODIES: the sweep cannot build their error requests. */
export function missingSamples(doc: ServedDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => op.requestBody !== undefined)
      .map(([method]) => `${method.toUpperCase()} ${path}`)
      .filter((op) => !(op in SAMPLE_BODIES)),
  );
}
