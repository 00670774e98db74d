import { declaresEtag, withNotModified } from "./not-modified";

/**
 * The problem responses the kernel's request path can give on an operation,
 * and the headers it puts on answers, derived from what the operation
 * declares (its traits), so that modules do not have to list them and
 * generated clients type every answer. Pure: it
 * reads a generated OpenAPI 3.1 document and returns a new one.
 */

/** A `$ref` to a component. */
interface Reference {
  $ref: string;
}

/** The parts of a parameter the traits read. */
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
}

/** The parts of an operation the traits read and extend. */
export interface OperationLike {
  parameters?: (Parameter | Reference)[];
  requestBody?: unknown;
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** A path item: its operations by method (other members are kept as they are). */
export type PathItemLike = { [M in (typeof METHODS)[number]]?: OperationLike };

/** The parts of an OpenAPI 3.1 document the traits read and extend. */
export interface DocumentLike {
  paths?: Record<string, PathItemLike | undefined>;
  security?: Record<string, string[]>[];
  components?: { parameters?: Record<string, unknown>; headers?: Record<string, unknown> };
}

/** What an operation declares that decides which common problems it can answer. */
export interface OperationTraits {
  /** Under `/api/v1`: credentials are checked and rate limits apply. */
  api: boolean;
  /** The kernel resolves a tenant from the subdomain and `X-Tenant` (every `/api/v1` path but the platform's). */
  resolvesTenant: boolean;
  /** The operation needs a tenant (`/api/v1` but not `/api/v1/platform` nor `/api/v1/system`). */
  tenantScoped: boolean;
  /** A security requirement names a credential. */
  secured: boolean;
  /** Parameters (path, query, header) or a body are declared, so zod validates them. */
  validatesInput: boolean;
  /** A request body is declared. */
  takesBody: boolean;
  /** An `If-Match` header is declared. */
  ifMatch: boolean;
  /** The `If-Match` header is declared required (`ifMatch(c, { required: true })`). */
  ifMatchRequired: boolean;
  /**
   * A GET whose 200 declares no `ETag`: kernel/http/not-modified.ts refuses an `If-Match` naming
   * tags there, which no representation of it has.
   */
  untaggedRead: boolean;
  /**
   * A POST under `/api/v1`: `Idempotency-Key` applies whenever the request carries a credential
   * (kernel/idempotency), whether the POST creates or not; on an operation that needs none
   * (`secured` false: login, logout, ...) only when one is sent all the same.
   */
  idempotent: boolean;
}

const API_PREFIX = "/api/v1";
const PROBLEM_REF = "#/components/schemas/Problem";

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

function resolveParameter(p: Parameter | Reference, doc: DocumentLike): Parameter | undefined {
  if (!("$ref" in p)) return p;
  const name = p.$ref.replace("#/components/parameters/", "");
  const found = doc.components?.parameters?.[name];
  return typeof found === "object" && found !== null && "name" in found && "in" in found
    ? (found as Parameter)
    : undefined;
}

const isIfMatch = (p: Parameter) => p.in === "header" && p.name.toLowerCase() === "if-match";

/**
 * Reads an operation's traits from its path and declaration. An operation
 * without its own `security` inherits the document's, as OpenAPI says.
 *
 * @example
 * traitsOf("/api/v1/blog/posts/{id}", op, doc).ifMatch; // true when If-Match is declared
 */
export function traitsOf(path: string, op: OperationLike, doc: DocumentLike, method = "get"): OperationTraits {
  const api = under(path, API_PREFIX);
  const platform = under(path, `${API_PREFIX}/platform`);
  const system = under(path, `${API_PREFIX}/system`);
  const params = (op.parameters ?? []).map((p) => resolveParameter(p, doc)).filter((p) => p !== undefined);
  const security = op.security ?? doc.security ?? [];
  return {
    api,
    resolvesTenant: api && !platform,
    tenantScoped: api && !platform && !system,
    secured: security.some((requirement) => Object.keys(requirement).length > 0),
    validatesInput: params.length > 0 || op.requestBody !== undefined,
    takesBody: op.requestBody !== undefined,
    ifMatch: params.some(isIfMatch),
    ifMatchRequired: params.some((p) => isIfMatch(p) && p.required === true),
    idempotent: method === "post" && api,
    untaggedRead: method === "get" && op.responses?.["200"] !== undefined && !declaresEtag(op.responses["200"]),
  };
}

/** The `Idempotency-Key` header every POST with a credential (a tenant principal's, the platform root key's) accepts. */
const IDEMPOTENCY_KEY = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Makes the POST safe to retry for 24 h: a repeat with the same key and body gets the first response again (`Idempotent-Replayed: true`); another body is 422",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};

/** What an operation that needs no credential adds: the key is scoped to a principal, so without one there is none. */
const WITHOUT_CREDENTIAL = "only when the request carries a credential all the same; without one the key is ignored";

/** The header as declared on an operation with these traits. */
const idempotencyKey = (t: OperationTraits) =>
  t.secured
    ? IDEMPOTENCY_KEY
    : { ...IDEMPOTENCY_KEY, description: `${IDEMPOTENCY_KEY.description}. Applies ${WITHOUT_CREDENTIAL}` };

/** One reason a common problem is given: its `code` and when. */
type Reason = readonly [code: string, when: string];

/**
 * The reasons for each status the kernel can answer on an operation with
 * these traits, in the order the request path checks them. Each mirrors a
 * place in the kernel: `resolveRequest` (credentials, tenant), the guards,
 * `bodyLimit`, the media-type gate and validators of @hono/zod-openapi,
 * `createRouter`'s hook, the command bus (If-Match) and `onError`.
 */
export function commonProblems(t: OperationTraits): Map<number, Reason[]> {
  const problems = new Map<number, Reason[]>();
  const add = (status: number, ...reasons: Reason[]) =>
    problems.set(status, [...(problems.get(status) ?? []), ...reasons]);

  if (t.validatesInput) {
    add(400, [
      "validation_failed",
      "a parameter, header or body field is invalid (`errors` lists every one), or the JSON body is malformed or not valid UTF-8",
    ]);
  }
  if (t.tenantScoped) add(400, ["tenant_required", "no tenant is named by a credential, the subdomain or `X-Tenant`"]);
  if (t.api) {
    // resolveRequest checks any Authorization header sent, even where the route needs none.
    add(
      401,
      t.secured
        ? ["unauthenticated", "no credential, or one that is malformed, unknown, expired or revoked"]
        : [
            "unauthenticated",
            "an `Authorization` header was sent with a malformed, unknown, expired or revoked credential",
          ],
    );
    add(403, [
      "forbidden",
      t.secured
        ? "a credential of the wrong kind for this route, or one without the permission it needs"
        : "a credential of the wrong kind for this route (the platform root key is valid only on /api/v1/platform)",
    ]);
  }
  if (t.resolvesTenant) {
    add(403, ["tenant_mismatch", "the credential's tenant, the subdomain and `X-Tenant` do not name the same tenant"]);
    add(403, ["tenant_suspended", "the tenant is suspended by the platform operator"]);
    add(403, [
      "origin_not_allowed",
      "the request names an `Origin` (a browser page's) that is neither the API's own nor in the tenant's `cors_origins`",
    ]);
    add(404, ["tenant_not_found", "the subdomain or `X-Tenant` names no tenant"]);
  }
  if (t.ifMatch) {
    add(412, [
      "version_conflict",
      "`If-Match` does not name the current version, or (on a write) `If-None-Match` names it or is `*` of a resource that exists",
    ]);
  }
  if (t.untaggedRead) {
    add(400, [
      "validation_failed",
      "`If-Match` is other than `*`: this resource sends no `ETag`, so no tag it names is current (send none, or `*`)",
    ]);
  }
  if (t.ifMatchRequired) add(428, ["precondition_required", "the write needs `If-Match` with the current version"]);
  if (t.idempotent) {
    const only = t.secured ? "" : ` (${WITHOUT_CREDENTIAL})`;
    add(400, ["validation_failed", `\`Idempotency-Key\` is not 1–255 visible ASCII characters${only}`]);
    add(409, [
      "conflict",
      `a request with this \`Idempotency-Key\` is still running, or succeeded with a secret shown once (not replayed)${only}`,
    ]);
    add(422, ["idempotency_key_reused", `this \`Idempotency-Key\` was used with another body${only}`]);
  }
  if (t.takesBody) {
    add(413, ["payload_too_large", "the body is larger than the configured limit (1 MiB by default)"]);
    add(415, [
      "unsupported_media_type",
      "the body's `Content-Type` is not one the operation declares, or it names a JSON body in a charset other than UTF-8",
    ]);
  }
  // The contract promises a rate limit on every /api/v1 route.
  if (t.api) add(429, ["rate_limited", "too many requests; `Retry-After` says after how many seconds to retry"]);
  add(
    500,
    ["internal", "an unexpected error; the problem carries only the request id"],
    ["config_invalid", "the server's configuration is invalid"],
  );
  // onError: a query on a table the deployed migrations have not made yet heals once they are applied,
  // and an actor paused by its supervision takes messages again when its pause ends.
  if (t.api)
    add(503, [
      "unavailable",
      "a dependency is not available for now: the database is not up to date with this version (pending migrations), a rate limiter that fails closed (mail, two-factor) is unreachable, or the object that holds the resource is paused after repeated failures; `Retry-After` says when to retry",
    ]);
  return problems;
}

const RETRY_AFTER = {
  "Retry-After": { description: "seconds to wait before retrying (never 0)", schema: { type: "integer", minimum: 1 } },
};

/**
 * The headers the kernel puts on answers, declared once in `components.headers` and
 * referenced from each response (inline, the RateLimit pair alone doubled the document).
 */
export const KERNEL_HEADERS = {
  // kernel/errors/problem.ts names the scheme on every 401 (RFC 9110 §15.5.2).
  "WWW-Authenticate": {
    description:
      'the scheme the credential must use: `Bearer` (API keys, access tokens and the metrics token alike). When a token was sent and refused it says why (RFC 6750 §3.1): `Bearer error="invalid_token", error_description="…"` (unknown, expired, revoked, or its user or tenant gone: get a new one), or `error="invalid_request"` for an `Authorization` header that is not `Bearer <token>`; with no token sent, plain `Bearer`',
    required: true,
    schema: { type: "string" },
  },
  // kernel/ratelimit/middleware.ts puts these two on /api/v1 answers, errors included, when a limit was decided.
  RateLimit: {
    description:
      'what is left of each limit that applied, per policy: `"principal";r=199;t=1` (r remaining, t seconds to its reset)',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'the limits that applied, per policy: `"principal";q=6000;w=60` (q requests per w seconds)',
    schema: { type: "string" },
  },
  // kernel/errors/problem.ts (acceptedTypes) says on a 415 what a POST or a PATCH accepts (RFC 9110 §15.5.16).
  "Accept-Post": {
    description: "the media types the operation accepts, comma-separated",
    required: true,
    schema: { type: "string" },
  },
  "Accept-Patch": {
    description: "the media types the operation accepts, comma-separated",
    required: true,
    schema: { type: "string" },
  },
} as const;

const CURRENT_ETAG = {
  ETag: {
    description: "the current `ETag`, which the `If-Match` sent did not name",
    required: true,
    schema: { type: "string" },
  },
};

const ref = (...names: (keyof typeof KERNEL_HEADERS)[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

const ACCEPTED: Record<string, Record<string, unknown>> = { post: ref("Accept-Post"), patch: ref("Accept-Patch") };

/**
 * The headers the kernel's request path puts on an answer of this status, whoever made it:
 * `Retry-After` on 429 and 503, `WWW-Authenticate` on 401, `Accept-Post` / `Accept-Patch`
 * on a POST's or a PATCH's 415, the current `ETag` on a GET's 412, the RateLimit headers on
 * every `/api/v1` answer (all but `Retry-After` and `ETag` as references to
 * {@link KERNEL_HEADERS}). Declared so that generated clients see them.
 */
export function kernelHeaders(status: string, t: OperationTraits, method = "get"): Record<string, unknown> {
  return {
    ...(status === "429" || status === "503" ? RETRY_AFTER : {}),
    ...(status === "401" ? ref("WWW-Authenticate") : {}),
    ...(status === "415" ? (ACCEPTED[method] ?? {}) : {}),
    // kernel/http/not-modified.ts sends the current ETag on a read's 412 (a file's download does too).
    ...(status === "412" && method === "get" && t.ifMatch ? CURRENT_ETAG : {}),
    ...(t.api ? ref("RateLimit", "RateLimit-Policy") : {}),
  };
}

/** The response object of one common status: the Problem schema and a description naming each code. */
function problemResponse(reasons: readonly Reason[]): Record<string, unknown> {
  return {
    description: reasons.map(([code, when]) => `\`${code}\`: ${when}`).join("\n"),
    content: { "application/problem+json": { schema: { $ref: PROBLEM_REF } } },
  };
}

/** A response with the kernel's headers for its status added to the ones it declares (its own win). */
function withKernelHeaders(response: unknown, status: string, t: OperationTraits, method: string): unknown {
  if (typeof response !== "object" || response === null || "$ref" in response) return response;
  const headers = kernelHeaders(status, t, method);
  if (Object.keys(headers).length === 0) return response;
  const own = "headers" in response && typeof response.headers === "object" ? response.headers : {};
  return { ...response, headers: { ...headers, ...own } };
}

/** Whether `responses` already covers `status`, exactly or by its range (`4XX`). */
function declares(responses: Record<string, unknown>, status: number): boolean {
  return String(status) in responses || `${String(status).charAt(0)}XX` in responses;
}

/** A response the operation declares, with the kernel's reasons for its status added to its description. */
function withReasons(declared: unknown, reasons: readonly Reason[]): unknown {
  if (typeof declared !== "object" || declared === null || !("description" in declared)) return declared;
  const kernel = reasons.map(([code, when]) => `\`${code}\`: ${when}`).join("\n");
  return { ...declared, description: `${String(declared.description)}\n\nAlso, from the platform:\n${kernel}` };
}

/**
 * Returns the document with the kernel's common problem responses added to
 * every operation (see {@link commonProblems}); a status an operation
 * already declares keeps the operation's own response, its description
 * extended with the kernel's reasons for that status. Expects the `Problem`
 * schema in `components.schemas`. The input is not changed.
 *
 * @example
 * app.get("/openapi.json", (c) => c.json(withCommonResponses(app.getOpenAPI31Document(config))));
 */
export function withCommonResponses<D extends DocumentLike>(doc: D): D {
  const paths: Record<string, PathItemLike | undefined> = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!item) continue;
    const next: PathItemLike = { ...item };
    for (const method of METHODS) {
      const declared = item[method];
      if (!declared) continue;
      // A GET that sends an ETag can answer 304, 412 and 400 to its If-Match (kernel/http/not-modified.ts).
      const op = method === "get" ? withNotModified(declared) : declared;
      const responses: Record<string, unknown> = { ...op.responses };
      const traits = traitsOf(path, op, doc, method);
      for (const [status, reasons] of commonProblems(traits)) {
        if (!declares(responses, status)) responses[String(status)] = problemResponse(reasons);
        else if (String(status) in responses)
          responses[String(status)] = withReasons(responses[String(status)], reasons);
      }
      for (const status of Object.keys(responses)) {
        responses[status] = withKernelHeaders(responses[status], status, traits, method);
      }
      const parameters = traits.idempotent ? [...(op.parameters ?? []), idempotencyKey(traits)] : op.parameters;
      next[method] = { ...op, ...(parameters ? { parameters } : {}), responses };
    }
    paths[path] = next;
  }
  const components = { ...doc.components, headers: { ...doc.components?.headers, ...KERNEL_HEADERS } };
  return { ...doc, paths, components };
}
