import type { MiddlewareHandler } from "hono";
import { bearerToken, namedSlugs } from "../auth/resolve";
import { lapsed } from "../clock/lapsed";
import { isolateDigest } from "../crypto";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { knownGoodSet } from "./known-good";
import { decide, knownRefusal, refusal } from "./limiter";
import { clientIp } from "./middleware";

/**
 * What a client is refused for when it guesses: an unknown, malformed or misplaced credential, a
 * tenant name that is no tenant's, a tenant its credential does not belong to. A suspended tenant
 * (403 `tenant_suspended`) is no guess: it is a known tenant, cached, and costs no lookup.
 */
const GUESSES = new Set(["unauthenticated", "forbidden", "tenant_not_found", "tenant_mismatch"]);

/**
 * Credentials (by {@link isolateDigest} of their token: {@link credentialKey}) and tenant slugs this isolate
 * has seen resolve, so that an address over its `auth_failures` allowance is refused only what
 * would cost a lookup of something unknown: a good key or token behind a NAT'ed office's address
 * keeps working while a neighbour's script with a typo is refused. Only what succeeded gets in, so
 * a guesser cannot fill it; what fails (a key revoked since, a tenant deleted) leaves at once.
 * Staleness bound: none needed, an entry spares only the pre-check, and the credential or tenant
 * is still verified as on any request; an entry not seen again for 15 minutes goes.
 */
const knownGood = knownGoodSet({ ttlMs: 15 * 60_000, maxEntries: 10_000 });

/**
 * Requests per client address now resolving something this isolate has not seen succeed: each is
 * charged only when its refusal is known, so without this count a client sending its guesses
 * at once had every one of them looked up before the first was charged. Each request holds a
 * place with the time it took it (its request's clock), and gives it back when resolved.
 * Entries leave when an address has no place left, so it holds only addresses with requests
 * under way.
 *
 * The map is the isolate's; a request torn down mid-lookup (the client went away, a time limit)
 * never resumes and so never gives its place back. A place held for {@link LOOKUP_STALE_MS} is
 * taken for lost: counted for ever, a few of them held every later guess of the address at 429
 * in this isolate.
 */
const underWay = new Map<string, Set<{ since: number }>>();

/** How long a request's place counts as under way at most: far past any lookup's time. */
export const LOOKUP_STALE_MS = 30_000;

/** Takes a place for one more request of `ip`; answers how many were under way before it. */
function reserve(ip: string, now: number): { ahead: number; place: { since: number } } {
  const places = underWay.get(ip) ?? new Set<{ since: number }>();
  for (const held of places) if (lapsed(held.since, now, LOOKUP_STALE_MS)) places.delete(held);
  const ahead = places.size;
  const place = { since: now };
  places.add(place);
  underWay.set(ip, places);
  return { ahead, place };
}

/** Gives back a request's place. */
function free(ip: string, place: { since: number }): void {
  const places = underWay.get(ip);
  if (!places) return;
  places.delete(place);
  if (places.size === 0) underWay.delete(ip);
}

/**
 * What the known-good set keys a request's credential by: a digest of its token, as resolve.ts reads
 * it, not of the header as spelt. Keyed by the header, one valid key sent with its scheme in every
 * case and any number of spaces took a new entry each time, and pushed every neighbour's credential
 * out of the bounded set (then held up behind their address's failures). A malformed header (never
 * known-good) is keyed as it is, so it is gated and charged like any guess.
 */
function credentialKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return isolateDigest(bearerToken(header) ?? `malformed\u0000${header.trim()}`);
}

/** The request's lookups this isolate has not seen succeed: its credential's and its tenant names'. */
function unknownLookups(slugs: ReadonlySet<string>, credential: string | undefined): string[] {
  const keys = [...[...slugs].map((slug) => `t:${slug}`), ...(credential ? [`k:${credential}`] : [])];
  return keys.filter((key) => !knownGood.has(key));
}

/**
 * Wraps the request path's authentication and tenant resolution (`resolveRequest`) with the
 * `auth_failures` policy, per client address:
 *
 * - a refusal there (see {@link GUESSES}) is charged to the address's bucket, which blocks the
 *   address in this isolate as soon as it is spent (not one refusal later);
 * - before the next request is resolved, an address this isolate knows to be blocked, or that has
 *   as many lookups under way as its bucket holds, is answered 429 `rate_limited` with
 *   Retry-After, without the credential or tenant lookup, unless the request names nothing this
 *   isolate has not seen succeed.
 *
 * Before, such refusals were counted against the address's `anonymous` bucket after the response
 * and never refused anything: one address sending invalid keys, bad tokens or random tenant
 * names got 401 and 404 forever, each one a D1 lookup. A good request pays no limiter call here,
 * only a digest of its Authorization header; the pre-check asks no Durable Object.
 *
 * @example
 * app.use("/api/v1/*", guardFailures(resolveRequest({ authenticators, tenants })));
 */
export function guardFailures(resolve: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return async function guardFailures(c, next) {
    const credential = credentialKey(c.req.header("authorization"));
    const ip = clientIp(c);
    const slugs = namedSlugs(c);
    const gated = unknownLookups(slugs, credential).length > 0;
    // Counted before the check awaits anything, so requests arriving together see each other.
    const reserved = gated ? reserve(ip, c.get("clock").now().getTime()) : null;
    const ahead = reserved?.ahead ?? 0;
    let held = reserved !== null;
    const release = (): void => {
      if (held && reserved) free(ip, reserved.place);
      held = false;
    };
    let resolved = false;
    try {
      const known = gated ? await knownRefusal(c, "auth_failures", ip, ahead) : undefined;
      if (known) throw refusal(known);
      await resolve(c, async () => {
        resolved = true;
        release();
        if (credential && c.get("principal")) knownGood.remember(`k:${credential}`);
        if (c.get("tenant")) for (const slug of slugs) knownGood.remember(`t:${slug}`);
        await next();
      });
    } catch (error) {
      if (!resolved && error instanceof AppError && GUESSES.has(error.code)) {
        if (credential && error.code === "unauthenticated") knownGood.forget(`k:${credential}`);
        if (error.code === "tenant_not_found") for (const slug of slugs) knownGood.forget(`t:${slug}`);
        await decide(c, "auth_failures", ip, { blockWhenSpent: true });
      }
      throw error;
    } finally {
      // After the charge: a slot is free again only once what it spent is counted.
      release();
    }
  };
}
