/**
 * The webhooks module's rules, as pure functions: which events an endpoint
 * wants, when a failed delivery is tried again, when an endpoint has failed
 * long enough to be disabled, and how an attempt's answer is read. No
 * Workers, Hono or storage here: the actors run these.
 */
import { z } from "zod";
import type { BackoffPolicy } from "../../kernel/resilience/backoff";
import { backoffDelay } from "../../kernel/resilience/backoff";
import type { BreakerPolicy } from "../../kernel/resilience/breaker";

/**
 * An event type filter: an exact type (`blog.post.created`), a prefix
 * wildcard (`blog.post.*`, `blog.*`), or `*` for every event.
 */
export const EventFilter = z
  .string()
  .max(200)
  .regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, "an event type, a prefix ending in .*, or *");

/**
 * Whether an endpoint with `filters` receives events of `type`.
 *
 * @example
 * wants(["blog.post.*"], "blog.post.created"); // true
 * wants(["blog.post.*"], "blog.postal.sent");  // false: a wildcard matches whole segments
 */
export function wants(filters: readonly string[], type: string): boolean {
  return filters.some((f) => {
    if (f === "*") return true;
    if (f.endsWith(".*")) return type.startsWith(f.slice(0, -1));
    return f === type;
  });
}

/** How deliveries are tried, retried, and given up on; WEBHOOK_POLICY overrides parts of it. */
export interface DeliveryPolicy {
  /** Backoff (full jitter) between attempts of one message. */
  retry: BackoffPolicy;
  /** A message not delivered within this time of its first attempt is given up (marked failed). */
  giveUpAfterMs: number;
  /**
   * …or after this many attempts: full jitter can draw waits near zero, so
   * time alone would not bound the attempts of an unlucky message.
   */
  maxAttempts: number;
  /** An endpoint failing continuously this long, and at least `disableAfterFailures` times, is disabled. */
  disableAfterMs: number;
  disableAfterFailures: number;
  /** One attempt's time limit, the receiver's answer included. */
  attemptTimeoutMs: number;
  /** The most of a response body read (and kept, for the delivery log). */
  maxResponseBytes: number;
  /** The endpoint's circuit breaker. */
  breaker: BreakerPolicy;
  /** Deliveries in flight at once across all of one tenant's endpoints (the tenant's bulkhead). */
  tenantConcurrency: number;
  /** Finished deliveries kept in an endpoint's log, the latest queued (by queue position). */
  logRetention: number;
}

const DAY = 86_400_000;

/**
 * About three days of retries, as tenants expect of a webhook sender: waits
 * drawn from 0 up to 30 s, 1 min, 2 min … capped at 6 h, until the message is
 * three days old. An endpoint that fails everything for three days (and at
 * least 10 attempts) is disabled and its tenant told.
 */
export const DEFAULT_POLICY: DeliveryPolicy = {
  retry: { baseMs: 30_000, maxMs: 6 * 3_600_000 },
  giveUpAfterMs: 3 * DAY,
  maxAttempts: 40,
  disableAfterMs: 3 * DAY,
  disableAfterFailures: 10,
  attemptTimeoutMs: 10_000,
  maxResponseBytes: 4_096,
  breaker: { windowMs: 600_000, minimumCalls: 5, failureRate: 0.5, coolDownMs: 60_000, halfOpenProbes: 1 },
  tenantConcurrency: 10,
  logRetention: 1_000,
};

/**
 * What an attempt came to. `note`: how it was sent when that was not one plain send (a
 * second send after a connection lost before any answer: attempt.ts), kept in the log.
 */
export type AttemptOutcome =
  /** The receiver answered 2xx. */
  | { kind: "delivered"; status: number; latencyMs: number; response: string; note?: string }
  /**
   * It answered something else (a redirect is not followed, so 3xx counts here); with the
   * wait its `Retry-After` asked for (a 429 or 503), in ms, when it sent a valid one.
   */
  | { kind: "rejected"; status: number; latencyMs: number; response: string; retryAfterMs?: number; note?: string }
  /** No answer in time, or no connection. */
  | { kind: "unreachable"; latencyMs: number; error: string; note?: string }
  /** The target is not allowed (outbound safety); the URL may resolve elsewhere later. */
  | { kind: "refused"; latencyMs: number; error: string; note?: string };

/** What happens to a message after a failed attempt. */
export type NextStep = { retryAt: number } | { giveUp: true };

/**
 * After `attempts` failed attempts of a message first tried at `firstAttemptAt`:
 * the next attempt's time (full jitter), or give up once it would fall past
 * the give-up horizon or the attempt limit. A receiver that answered 410 Gone wants no more.
 * A receiver's `Retry-After` is honoured as the earliest next attempt (Standard Webhooks:
 * "should be taken into consideration"), up to the backoff's cap, so a receiver cannot
 * park a message for longer than the schedule's longest wait.
 *
 * @example
 * nextStep({ attempts: 1, firstAttemptAt: t }, { kind: "rejected", status: 500, … }, t, DEFAULT_POLICY, () => 0.5);
 * // { retryAt: t + 15_000 }
 */
export function nextStep(
  delivery: { attempts: number; firstAttemptAt: number },
  outcome: AttemptOutcome,
  now: number,
  policy: DeliveryPolicy,
  random: () => number = Math.random,
): NextStep {
  if (outcome.kind === "rejected" && outcome.status === 410) return { giveUp: true };
  if (delivery.attempts >= policy.maxAttempts) return { giveUp: true };
  const asked = outcome.kind === "rejected" ? Math.min(outcome.retryAfterMs ?? 0, policy.retry.maxMs) : 0;
  const retryAt = now + Math.max(backoffDelay(delivery.attempts, policy.retry, random), asked);
  if (retryAt - delivery.firstAttemptAt > policy.giveUpAfterMs) return { giveUp: true };
  return { retryAt };
}

/** An endpoint's run of failed attempts since its last success. */
export interface FailureStreak {
  /** When the first failure of the run happened, or null after a success. */
  since: number | null;
  failures: number;
}

export const noStreak = (): FailureStreak => ({ since: null, failures: 0 });

/** The streak after an attempt. */
export function streakAfter(streak: FailureStreak, delivered: boolean, now: number): FailureStreak {
  if (delivered) return noStreak();
  return { since: streak.since ?? now, failures: streak.failures + 1 };
}

/**
 * Whether the endpoint is to be disabled: it failed continuously for the
 * policy's time and count, or the receiver said 410 Gone.
 */
export function disableReason(
  streak: FailureStreak,
  outcome: AttemptOutcome,
  now: number,
  policy: DeliveryPolicy,
): "gone" | "failing" | null {
  if (outcome.kind === "rejected" && outcome.status === 410) return "gone";
  if (streak.since === null) return null;
  return now - streak.since >= policy.disableAfterMs && streak.failures >= policy.disableAfterFailures
    ? "failing"
    : null;
}

/**
 * The wait a `Retry-After` header asks for (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), in ms from `now`; undefined when absent or unreadable.
 *
 * @example
 * retryAfterMs("120", 0); // 120_000
 * retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("2015-10-21T07:27:00Z")); // 60_000
 */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d{1,10}$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  // An HTTP-date starts with its day name; Date.parse alone would read "1.5" as a date in 2001.
  return Number.isNaN(at) || !/^[A-Za-z]/.test(value) ? undefined : Math.max(at - now, 0);
}

/**
 * What the log says of a message given up: which endpoint and delivery, the receiver by host
 * only, and its last answer. The tenant sees it in its delivery log; the operator, only here.
 */
export function givenUpFields(
  config: { tenant_id: string; endpoint_id: string; url: string },
  delivery: { id: string; message_id: string; event_type: string; attempts: number },
  outcome: AttemptOutcome,
): Record<string, string | number | null> {
  return {
    tenant_id: config.tenant_id,
    endpoint_id: config.endpoint_id,
    delivery_id: delivery.id,
    event_id: delivery.message_id,
    event_type: delivery.event_type,
    host: hostOf(config.url),
    attempts: delivery.attempts,
    outcome: outcome.kind,
    response_status: "status" in outcome ? outcome.status : null,
  };
}

/** The host of a URL, for events and logs: a webhook URL's path or query may carry a token. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "invalid";
  }
}

/** Why an endpoint is disabled, as its view says it (contract.ts `EndpointSchema`). */
export interface DisabledState {
  disabled_reason: "failing" | "gone" | "secret_unreadable" | "platform" | null;
  disabled_note: string | null;
}

/**
 * Why an endpoint is disabled after a change of `enabled` (undefined: not changed): enabling
 * clears it (the endpoint actor starts afresh); the platform's disabling records `platform` and
 * the operator's note, for the tenant's admins, over any other reason an endpoint already
 * disabled had (so it holds: {@link heldByPlatform}); an admin's disabling of an enabled one
 * records nothing (their audit log says who); any other change (a disabled one's URL) keeps what was.
 */
export function disabledAfter(
  current: DisabledState & { enabled: boolean },
  enabled: boolean | undefined,
  platform: { note: string | null } | undefined,
): DisabledState {
  if (enabled === true) return { disabled_reason: null, disabled_note: null };
  if (enabled === false && platform) return { disabled_reason: "platform", disabled_note: platform.note };
  if (enabled === false && current.enabled) return { disabled_reason: null, disabled_note: null };
  return { disabled_reason: current.disabled_reason, disabled_note: current.disabled_note };
}

/**
 * Whether a change is refused because the platform disabled the endpoint: only the platform
 * enables what it disabled (an operator stopping a flood or an abuse is not undone by the
 * tenant it was stopped for). Any other change (URL, filters, description, disabling again) is
 * the tenant's to make. Answers the operator's note for the refusal, or null when allowed.
 */
export function heldByPlatform(
  current: DisabledState,
  enabled: boolean | undefined,
  byPlatform: boolean,
): { note: string | null } | null {
  if (enabled !== true || byPlatform || current.disabled_reason !== "platform") return null;
  return { note: current.disabled_note };
}
