import type { Context } from "hono";
import { TtlCache } from "../cache/ttl-cache";
import { sha256Hex } from "../crypto";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { errorFields } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { report } from "./async-reports";
import { rateLimiterOf } from "./contract";
import { gcra, type Rate, resetAfterRefusal, standing, type Verdict } from "./gcra";
import { blockedUntil, blockKey, estimateAt, estimates, limiterStats } from "./isolate-state";
import { assertMayCharge } from "./owner";
import { effectivePolicy, type Policy, type PolicyName } from "./policies";

/** One policy's decision on a request, as the RateLimit headers report it. */
export interface LimitDecision {
  policy: PolicyName;
  limit: number;
  periodS: number;
  allowed: boolean;
  remaining: number;
  resetS: number;
  retryAfterS: number;
  /** The limiter could not be reached and the policy fails closed. */
  unavailable?: boolean;
}

/**
 * Object names by policy and bucket, so a busy key is hashed once per isolate rather
 * than on every request. Staleness: none, the name is a pure function of the
 * bucket.
 */
const bucketIds = new TtlCache<string, string>({ ttlMs: 600_000, maxEntries: 100_000 });

async function bucketIdOf(name: PolicyName, bucket: string): Promise<string> {
  const id = `${name}:${await sha256Hex(bucket)}`;
  bucketIds.set(`${name}\u0000${bucket}`, id);
  return id;
}

export { limiterStats } from "./isolate-state";

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

function decisionOf(name: PolicyName, policy: Policy, verdict: Verdict): LimitDecision {
  return {
    policy: name,
    limit: policy.limit,
    periodS: policy.period_s,
    allowed: verdict.allowed,
    remaining: verdict.remaining,
    resetS: seconds(verdict.resetMs),
    retryAfterS: seconds(verdict.retryAfterMs),
  };
}

function refusedFor(name: PolicyName, policy: Policy, retryAfterMs: number, resetMs = retryAfterMs): LimitDecision {
  return decisionOf(name, policy, { allowed: false, tat: 0, remaining: 0, resetMs, retryAfterMs });
}

/** The refusal of a key the isolate holds blocked until `until`: `t` as the key's object would give it. */
function blockedFor(name: PolicyName, policy: Policy, rate: Rate, until: number, now: number): LimitDecision {
  return refusedFor(name, policy, until - now, resetAfterRefusal(rate, until - now));
}

/**
 * A decision, and for one its key's object admitted (sync policies) the bucket it was
 * counted in, so {@link refund} can give it back to that same bucket.
 */
export interface Charge {
  decision: LimitDecision;
  bucket: { id: string; rate: Rate } | null;
}

/** How a decision is made beyond the policy's own settings. */
export interface DecideOptions {
  /**
   * Block the key in this isolate as soon as a request leaves its bucket empty, not only once one
   * is refused: for a bucket charged after the fact (`auth_failures`), whose next request must be
   * refused before the work it limits. Not for a bucket with refunds (`login`): a refund made in
   * another isolate would not lift the block here.
   */
  blockWhenSpent?: boolean;
}

/**
 * Decides one request against policy `name` for `key` (an account, a client,
 * a principal: hashed before it names a Durable Object, so no email or
 * address leaves in an object's name), with the tenant's plan and override.
 * Records the decision for the RateLimit headers; does not throw.
 */
export async function decide(
  c: Context<AppEnv>,
  name: PolicyName,
  key: string,
  options: DecideOptions = {},
): Promise<LimitDecision> {
  return (await charge(c, name, key, options)).decision;
}

/** Policy `name` as it applies to this request: the tenant's plan and override, and its rate. */
function policyOf(c: Context<AppEnv>, name: PolicyName): { policy: Policy; rate: Rate } {
  const override = c.get("tenantGateway")?.rateLimits[name];
  const policy = effectivePolicy(c.get("config").ratePolicies, name, c.get("tenant")?.plan, override);
  return { policy, rate: { limit: policy.limit, periodMs: policy.period_s * 1000, burst: policy.burst } };
}

/**
 * The name of the object that counts `key` under policy `name` for this request's tenant. The rate
 * is not part of it: a key keeps what it spent when its tenant changes the policy's setting: its
 * object re-counts what the key owes, in requests, at the rate it is asked at (gcra.ts `rerated`),
 * never a fresh burst (a tenant could otherwise refill any budget it may set, `mail` and `login`
 * among them, by saving a new value).
 */
async function objectOf(c: Context<AppEnv>, name: PolicyName, key: string): Promise<string> {
  const bucket = `${c.get("tenant")?.id ?? ""}\u0000${key}`;
  return bucketIds.get(`${name}\u0000${bucket}`) ?? (await bucketIdOf(name, bucket));
}

function recordOf(c: Context<AppEnv>, name: PolicyName) {
  return (d: LimitDecision) => {
    c.set("rateLimits", [...(c.get("rateLimits") ?? []), d]);
    isolateRecorder.inc(METRICS.rateLimitDecisions, [
      name,
      d.unavailable ? "unavailable" : d.allowed ? "allowed" : "limited",
    ]);
    return d;
  };
}

/**
 * The refusal of `key` under policy `name` when this isolate already knows the key is over its
 * limit, recorded for the headers; undefined otherwise. It knows from its blocked-until cache,
 * and from `underWay`: requests of the key the caller let through and will charge once they end,
 * of which no more may be under way at once than the bucket is known to hold (the isolate's
 * estimate for an async policy, a burst for a sync one). Asks no Durable Object and spends
 * nothing: what may run before work that a refusal should spare, without a limiter round trip.
 */
export async function knownRefusal(
  c: Context<AppEnv>,
  name: PolicyName,
  key: string,
  underWay = 0,
): Promise<LimitDecision | undefined> {
  const { policy, rate } = policyOf(c, name);
  if (policy.mode === "off") return undefined;
  const id = await objectOf(c, name, key);
  const now = c.get("clock").now().getTime();
  const until = blockedUntil.get(blockKey(id, rate));
  if (until !== undefined && until > now) {
    limiterStats.blockedHits++;
    return recordOf(c, name)(blockedFor(name, policy, rate, until, now));
  }
  const room = policy.mode === "async" ? standing(rate, estimateAt(id, rate, now), now).remaining : rate.burst;
  if (underWay < room) return undefined;
  // Once those under way are charged the bucket is spent: the next passes an interval on, and
  // the bucket is full a whole burst on, as the 429s after them will say.
  const interval = Math.ceil(rate.periodMs / rate.limit);
  return recordOf(c, name)(refusedFor(name, policy, interval, resetAfterRefusal(rate, interval)));
}

async function charge(c: Context<AppEnv>, name: PolicyName, key: string, options: DecideOptions = {}): Promise<Charge> {
  const uncounted = (decision: LimitDecision): Charge => ({ decision, bucket: null });
  const { policy, rate } = policyOf(c, name);
  // Off: admitted without state, and not recorded, so no RateLimit header names it.
  if (policy.mode === "off") {
    return uncounted(
      decisionOf(name, policy, { allowed: true, tat: 0, remaining: policy.burst, resetMs: 0, retryAfterMs: 0 }),
    );
  }
  const id = await objectOf(c, name, key);
  const now = c.get("clock").now().getTime();
  const record = recordOf(c, name);

  const blocked = blockKey(id, rate);
  const until = blockedUntil.get(blocked);
  if (until !== undefined && until > now) {
    limiterStats.blockedHits++;
    return uncounted(record(blockedFor(name, policy, rate, until, now)));
  }
  const block = (verdict: Verdict) => {
    // An admitted request that left nothing: the next is refused until the TAT allows it (gcra.ts).
    const after =
      verdict.allowed && verdict.remaining === 0 && options.blockWhenSpent ? gcra(rate, verdict.tat, now) : verdict;
    if (!after.allowed) blockedUntil.set(blocked, now + after.retryAfterMs, after.retryAfterMs);
  };

  if (policy.mode === "async") {
    limiterStats.asyncDecisions++;
    const local = gcra(rate, estimateAt(id, rate, now), now);
    if (local.allowed) {
      estimates.set(id, { tat: local.tat, rate });
      report(c, id, rate);
    }
    block(local);
    return uncounted(record(decisionOf(name, policy, local)));
  }

  try {
    const verdict = await rateLimiterOf(c.env, id).check({ rate, now });
    block(verdict);
    return { decision: record(decisionOf(name, policy, verdict)), bucket: verdict.allowed ? { id, rate } : null };
  } catch (error) {
    limiterStats.failures++;
    const open = policy.on_failure === "open";
    c.get("log").warn(`rate limiter unreachable; failing ${open ? "open" : "closed"}`, {
      policy: name,
      ...errorFields(error),
    });
    if (open) return uncounted(record({ ...decisionOf(name, policy, gcra(rate, 0, now)), remaining: policy.burst }));
    return uncounted(record({ ...refusedFor(name, policy, 1000), unavailable: true }));
  }
}

/** The error for a refused decision: 429 `rate_limited` with Retry-After, or 503 when the limiter failed closed. */
export function refusal(d: LimitDecision): AppError {
  const headers = { "Retry-After": String(Math.max(1, d.retryAfterS)) };
  if (d.unavailable) {
    return new AppError("unavailable", { detail: "the rate limiter cannot be reached; try again shortly", headers });
  }
  return new AppError("rate_limited", {
    detail: `too many requests (${d.policy}); retry after ${Math.max(1, d.retryAfterS)} s`,
    headers,
  });
}

/**
 * Enforces policy `name` for `key` inside a route (login per account, mail
 * per address): 429 with Retry-After when refused. The same answer whatever
 * the key names, so a 429 never tells whether an account exists.
 *
 * Returns what was spent, for {@link refund}. A module's policy charged from another module's
 * route throws `ForeignPolicyError` (500), as an undeclared one throws `UnknownPolicyError`.
 *
 * @example
 * await enforce(c, "login", `${tenant.id}:${email}`);
 */
export async function enforce(c: Context<AppEnv>, name: PolicyName, key: string): Promise<Charge> {
  // Another module's policy is refused before its bucket is touched (owner.ts).
  assertMayCharge(c.get("module"), name);
  const spent = await charge(c, name, key);
  if (!spent.decision.allowed) throw refusal(spent.decision);
  return spent;
}

/**
 * Gives back a request `enforce` admitted, once the route knows it should not count (the
 * `login` budget counts wrong passwords: a right one is refunded after the check, so the
 * check still runs before the hashing and still stops a flood of concurrent guesses).
 * Only a sync policy's charge is refunded: an async or off one was never counted by the
 * key's object. The request's RateLimit header then shows the budget given back. A refund
 * that cannot reach the object is logged and dropped: the request already succeeded.
 *
 * @example
 * const spent = await enforce(c, "login", email);
 * if (passwordOk) await refund(c, spent);
 */
export async function refund(c: Context<AppEnv>, spent: Charge): Promise<void> {
  if (!spent.bucket) return;
  const { id, rate } = spent.bucket;
  try {
    const now = c.get("clock").now().getTime();
    const after = await rateLimiterOf(c.env, id).refund({ rate, now });
    // A request refused meanwhile may have blocked the key in this isolate; there is room again.
    blockedUntil.delete(blockKey(id, rate));
    const updated = { ...spent.decision, remaining: after.remaining, resetS: seconds(after.resetMs) };
    c.set(
      "rateLimits",
      (c.get("rateLimits") ?? []).map((d) => (d === spent.decision ? updated : d)),
    );
  } catch (error) {
    c.get("log").warn("rate limiter unreachable; refund dropped", {
      policy: spent.decision.policy,
      ...errorFields(error),
    });
  }
}

/**
 * Gives key `key` its whole budget under policy `name` back, at its object: what a completed
 * password reset does for the account's `login` budget, so guesses of the old (or voided)
 * password by whoever holds it do not answer the member's first login with the new one 429.
 * The key is named as {@link enforce} names it (the request's tenant, then `key`), so the caller
 * passes what the limited route passes. Only a sync policy's object keeps a budget to give back
 * (an async one's isolates keep their estimates; an off one keeps nothing). This isolate's block of
 * the key ends with it; another isolate that refused the key keeps its block until the refusal's
 * `Retry-After`. An object that cannot be reached is logged and skipped: the caller's work is done.
 *
 * @example
 * await restore(c, "login", account.email); // after the reset's new password is stored
 */
export async function restore(c: Context<AppEnv>, name: PolicyName, key: string): Promise<void> {
  assertMayCharge(c.get("module"), name);
  const { policy, rate } = policyOf(c, name);
  if (policy.mode !== "sync") return;
  try {
    const id = await objectOf(c, name, key);
    await rateLimiterOf(c.env, id).restore({ rate, now: c.get("clock").now().getTime() });
    blockedUntil.delete(blockKey(id, rate));
  } catch (error) {
    c.get("log").warn("rate limiter unreachable; budget not restored", { policy: name, ...errorFields(error) });
  }
}
