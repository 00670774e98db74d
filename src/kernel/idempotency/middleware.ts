import type { Context, MiddlewareHandler } from "hono";
import { hash } from "../crypto";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { declaredSha256, streamsBody } from "../http/streamed-body";
import { errorFields } from "../log";
import { idempotencyOf, type StoredResponse } from "./contract";
import { plainFingerprint, requestFingerprint } from "./fingerprint";
import { idempotencyRecordKey } from "./record-key";

/** How long a key is remembered: 24 h, as the contract says. */
export const IDEMPOTENCY_TTL_MS = 86_400_000;
/** How long a first request may run before a repeat with its key may run instead. */
const LEASE_MS = 60_000;
/** How long a repeat waits for a first request that is still running. */
const WAIT_MS = 20_000;

/** Response headers a replay carries; the rest (request id, rate limits, security headers) are the repeat's own. */
const KEPT = ["content-type", "etag", "location", "cache-control"];

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on every POST of a tenant principal (user or API key)
 * or of the platform root key (one scope of its own):
 * the first request runs and its response is kept for 24 h; a repeat with
 * the same key (scoped to tenant, principal, method and path) and the same
 * body gets that response again, with `Idempotent-Replayed: true`, without
 * running the handler; a repeat that arrives while the first still runs
 * waits for it; the same key with another body is 422
 * `idempotency_key_reused`. A response that held a secret shown once
 * (`Cache-Control: no-store`, e.g. a new API key) is never stored: its
 * repeats answer 409 `conflict` instead of creating a second one. An error
 * (4xx or 5xx) is not kept: plinth refuses a request without changing
 * anything, so running it again is safe, and a client that fixes its body or
 * its If-Match may retry under the same key instead of meeting a 422.
 * An operation that streams its body (a file upload) is not buffered to be
 * hashed: its key needs the body's SHA-256 declared in `Content-Digest`,
 * which the operation checks against what it reads.
 */
export const idempotency = (): MiddlewareHandler<AppEnv> =>
  async function idempotency(c, next) {
    const header = c.req.header("idempotency-key");
    const principal = c.get("principal");
    const tenant = c.get("tenant");
    // The platform root key has one scope of its own: a retried recovery must not mint a second admin key.
    const scope =
      principal?.kind === "platform"
        ? "platform"
        : tenant && principal
          ? `${tenant.id}:${principal.kind}:${principal.id}`
          : null;
    if (c.req.method !== "POST" || header === undefined || scope === null) return next();
    if (!KEY.test(header)) {
      throw new AppError("validation_failed", {
        detail: "Idempotency-Key must be 1-255 visible ASCII characters",
        errors: [{ path: "header.idempotency-key", message: "1-255 visible ASCII characters" }],
      });
    }
    const bodySha256 = await bodyDigest(c);
    const fingerprint = requestFingerprint(c.get("config").ipHashKey, c.req.method, c.req.path, bodySha256);
    // Records an older deploy kept hold this one instead (fingerprint.ts): a retry across an upgrade still replays.
    const legacyFingerprint = await plainFingerprint(c.req.method, c.req.path, bodySha256);
    const key = idempotencyRecordKey(c.req.method, c.req.path, header);
    const store = idempotencyOf(c.env, scope);
    const now = () => c.get("clock").now().getTime();
    const begunAt = now();
    const begun = await store.begin({
      key,
      fingerprint,
      legacyFingerprint,
      now: begunAt,
      leaseMs: LEASE_MS,
      waitMs: WAIT_MS,
    });
    if (begun.outcome === "mismatch") {
      throw new AppError("idempotency_key_reused", { detail: "this Idempotency-Key was used with another body" });
    }
    if (begun.outcome === "in_progress") {
      throw new AppError("conflict", { detail: "a request with this Idempotency-Key is still running; retry later" });
    }
    if (begun.outcome === "replay") {
      if (begun.response.secret) {
        throw new AppError("conflict", {
          detail:
            "a request with this Idempotency-Key succeeded; its response held a secret shown once and is not replayed",
        });
      }
      return replay(begun.response);
    }
    await next();
    const res = c.res;
    if (res.status >= 400) {
      // Before the answer leaves, so an immediate retry runs instead of meeting its own lease (409).
      // Should this fail, the lease still ends by itself.
      await store.abandon({ key, lease: begunAt + LEASE_MS }).catch((error: unknown) => {
        c.get("log").warn("idempotency key not released; its lease will expire", errorFields(error));
      });
      return;
    }
    const headers = Object.fromEntries(
      KEPT.flatMap(
        (h) =>
          res.headers
            .get(h)
            ?.split("\n")
            .map((v) => [h, v]) ?? [],
      ),
    );
    const secret = (res.headers.get("cache-control") ?? "").includes("no-store");
    const response: StoredResponse = {
      status: res.status,
      headers,
      body: secret ? "" : await res.clone().text(),
      secret,
    };
    await store.complete({ key, response, now: now(), ttlMs: IDEMPOTENCY_TTL_MS });
  };

/**
 * The body's SHA-256: hashed here, or, for a streamed body, the one its `Content-Digest`
 * (or `Repr-Digest`: for an upload with no content coding, the same bytes) declares. The
 * route holds the bytes to whichever it was given, so a declared digest that lies fails there.
 */
async function bodyDigest(c: Context<AppEnv>): Promise<Uint8Array> {
  if (!streamsBody(c)) return hash.sha256(new Uint8Array(await c.req.arrayBuffer()));
  const declared =
    declaredSha256(c.req.header("content-digest")) ?? declaredSha256(c.req.header("repr-digest"), "Repr-Digest");
  if (declared) return declared;
  throw new AppError("validation_failed", {
    detail: "an Idempotency-Key on a streamed upload needs the body's SHA-256 in Content-Digest or Repr-Digest",
    errors: [{ path: "header.content-digest", message: "required with Idempotency-Key: sha-256=:<base64>:" }],
  });
}

function replay(stored: StoredResponse): Response {
  const headers = new Headers(stored.headers);
  headers.set("Idempotent-Replayed", "true");
  return new Response(stored.status === 204 ? null : stored.body, { status: stored.status, headers });
}
