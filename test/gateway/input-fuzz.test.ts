// Input-validation fuzzing of the whole HTTP API: every operation of the OpenAPI document the
// Worker serves is sent fast-check garbage (wrong types and stray fields, broken and non-JSON
// bodies, huge strings and deep nesting under the body limit, odd path segments, query values
// and headers; bodies and parameters as their schemas take them but for one value, at their bounds
// and their patterns' edges), authenticated as the seeded tenant's admin (its admin key or its owner's access
// token; the root key on platform routes) so that validation, not authentication, answers. Whatever comes in, no answer is a 5xx, every
// 4xx is the contract's problem+json, and no body shows a stack trace or a source path.
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type Credentials, requestsFor } from "./fuzz-inputs";
import { type FuzzRequest, type Operation, operationsOf } from "./fuzz-operations";
import { seededTenant } from "./fuzz-seed";

// Fixed, so a failure replays: the failure names the operation's seed, and fast-check prints it
// with the counterexample and its path. Change SEED locally (and RUNS_PER_OPERATION) to search
// further; 20 runs of 118 operations take ~15 s of a loaded 2-core machine.
const SEED = 20261206;
const RUNS_PER_OPERATION = 20;

// Operations the walk does not send garbage to, each with why. Empty: every operation is walked.
const EXCLUDED: Record<string, string> = {};

// Operations walked with every path value but the seeded tenant's own id, each with why: given
// it, one request would take the tenant away from every operation walked after it.
const TENANT_ID_WITHHELD: Record<string, string> = {
  deleteTenant: "erases the seeded tenant",
  suspendTenant: "suspends the seeded tenant: every later tenant request would be a 403",
};

// Operations that act on every tenant when their body names none: a request whose JSON body names
// no tenant is not sent (the walk shares storage with the other test files of its workerd, whose
// dead letters a platform-wide replay would send and whose sealed values it would re-encrypt).
const EVERY_TENANT_UNLESS_NAMED: Record<string, string> = {
  replayMailDeadLetters: "replays every tenant's pending mail dead letters",
  reencryptSealedValues: "re-encrypts every tenant's sealed values",
};

/** Whether `req` would act on every tenant: no body, or a JSON object body with no `tenant_id`, to such an operation. */
function everyTenant(op: Operation, req: FuzzRequest): boolean {
  if (!(op.operationId in EVERY_TENANT_UNLESS_NAMED)) return false;
  // Bytes as the Worker reads them: a leading byte-order mark dropped. No body names no tenant.
  const text =
    typeof req.body === "string" || req.body === undefined ? (req.body ?? "") : new TextDecoder().decode(req.body);
  if (text.trim() === "") return true;
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === "object" && body !== null && !Array.isArray(body) && !("tenant_id" in body);
  } catch {
    return false;
  }
}

const doc = (await (await SELF.fetch("http://plinth.test/openapi.json")).json()) as Parameters<typeof operationsOf>[0];
const operations = operationsOf(doc);

// A Node-style frame (`at f (file.ts:1:2)`), a source or dependency path, or an engine error name.
const LEAKS = [
  /\n\s+at \S/,
  /\bat \S+ \([^)]*:\d+:\d+\)/,
  /\.(?:ts|js|mjs):\d+(?::\d+)?/,
  /node_modules/,
  /\/(?:src|durable-objects)\/(?:kernel|modules)?/,
  /\b(?:TypeError|RangeError|SyntaxError|ReferenceError|Maximum call stack)\b/,
  /D1_ERROR|SQLITE_/,
];

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The headers the contract puts on every response, errors included. */
function headerViolations(req: FuzzRequest, res: Response): string[] {
  const found: string[] = [];
  const sent = req.headers["x-request-id"];
  const id = res.headers.get("x-request-id");
  if (!id) found.push("no X-Request-Id");
  else if (sent !== undefined && SANE_REQUEST_ID.test(sent) && id !== sent) found.push("X-Request-Id not echoed");
  if (res.headers.get("x-content-type-options") !== "nosniff") found.push("X-Content-Type-Options");
  if (res.headers.get("x-frame-options") !== "DENY") found.push("X-Frame-Options");
  if (res.headers.get("referrer-policy") !== "no-referrer") found.push("Referrer-Policy");
  if (req.url.startsWith("/api/") && !res.headers.get("content-security-policy")?.includes("default-src 'none'")) {
    found.push("Content-Security-Policy");
  }
  return found;
}

/** What is wrong with one answer, by the contract; empty when nothing is. */
function violations(req: FuzzRequest, res: Response, text: string): string[] {
  const found: string[] = headerViolations(req, res);
  if (res.status >= 500) found.push(`status ${res.status}`);
  for (const leak of LEAKS) if (leak.test(text)) found.push(`body leaks ${leak}`);
  if (res.status >= 400 && res.status < 500) {
    const type = res.headers.get("content-type");
    if (type !== "application/problem+json") found.push(`content-type ${type}`);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      found.push("body is not JSON");
    }
    if (body.status !== res.status) found.push(`status field ${String(body.status)}`);
    if (typeof body.code !== "string" || body.type !== `/problems/${String(body.code)}`) found.push("type/code");
    if (typeof body.title !== "string") found.push("title");
    if (typeof body.detail !== "string") found.push("detail");
    if (body.request_id !== res.headers.get("x-request-id") || typeof body.request_id !== "string") {
      found.push("request_id");
    }
    if (body.errors !== undefined) {
      const ok =
        Array.isArray(body.errors) &&
        body.errors.every(
          (e: unknown) =>
            typeof e === "object" &&
            e !== null &&
            typeof (e as { path?: unknown }).path === "string" &&
            typeof (e as { message?: unknown }).message === "string",
        );
      if (!ok) found.push("errors shape");
    }
  }
  return found;
}

/** The body as bytes cut in a few chunks, streamed without a Content-Length. */
function chunks(body: string | Uint8Array): ReadableStream<Uint8Array> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const size = Math.max(1, Math.ceil(bytes.length / 4));
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function send(req: FuzzRequest): Promise<{ res: Response; text: string }> {
  const body = req.body !== undefined && req.chunked ? chunks(req.body) : req.body;
  const res = await SELF.fetch(`http://plinth.test${req.url}`, { method: req.method, headers: req.headers, body });
  return { res, text: await res.text() };
}

/** A stable per-operation seed, so each operation replays on its own. */
function seedOf(op: Operation): number {
  let h = SEED;
  for (const ch of op.operationId) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

describe("garbage input to every operation", () => {
  let creds: Credentials;
  let ids: string[];
  let tenantId: string;

  beforeAll(async () => {
    ({ creds, ids, tenantId } = await seededTenant());
  });

  it("walks every operation the document serves", () => {
    expect(operations.length).toBeGreaterThan(50);
    for (const id of [
      ...Object.keys(EXCLUDED),
      ...Object.keys(TENANT_ID_WITHHELD),
      ...Object.keys(EVERY_TENANT_UNLESS_NAMED),
    ]) {
      expect(operations.map((o) => o.operationId)).toContain(id);
    }
  });

  // Real ids (a user, a post, a webhook, an invitation, a spare key, a file, role and module names)
  // among the garbage, so some requests get past the 404 into the handler.
  const realIdsFor = (op: Operation) => (op.operationId in TENANT_ID_WITHHELD ? ids : [...ids, tenantId]);

  it.each(
    operations.filter((op) => !(op.operationId in EXCLUDED)).map((op) => [`${op.method} ${op.path}`, op] as const),
  )("%s: never a 5xx, every 4xx a problem, no internals", async (_name, op) => {
    const seed = seedOf(op);
    let pastAuth = 0;
    await fc.assert(
      fc.asyncProperty(requestsFor(op, creds, realIdsFor(op)), async (req) => {
        fc.pre(!everyTenant(op, req));
        const { res, text } = await send(req);
        if (res.status !== 401 && res.status !== 403) pastAuth++;
        const wrong = violations(req, res, text);
        if (wrong.length > 0) {
          throw new Error(
            `${op.operationId} (seed ${seed}): ${wrong.join("; ")} — answer ${res.status} ${text.slice(0, 300)}`,
          );
        }
      }),
      { seed, numRuns: RUNS_PER_OPERATION, endOnFailure: true },
    );
    // A walk whose every request was turned away at the door would pass without testing anything.
    expect(pastAuth, `${op.operationId}: no request got past authentication`).toBeGreaterThan(0);
  });
});
