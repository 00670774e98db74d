import {
  OutboundFailed,
  type OutboundPolicy,
  OutboundRefused,
  type OutboundResponse,
  type Resolver,
  safeFetch,
} from "../../kernel/outbound";
import type { Sleeper } from "../../kernel/resilience/sleep";
import { type AttemptOutcome, type DeliveryPolicy, retryAfterMs } from "./domain";
import { webhookHeaders } from "./signing";

/** What an attempt needs besides the message: outbound rules, DNS, the clock, and (in tests) a fetch. */
export interface AttemptDeps {
  outbound: OutboundPolicy;
  resolver: Resolver;
  now: () => number;
  fetch?: typeof fetch;
  /** What the attempt's timeout is counted on (safeFetch's default, the real timers, unless given). */
  sleeper?: Sleeper;
}

/** The start of a receiver's answer kept in the delivery log (never logged). */
const KEPT_RESPONSE_CHARS = 1_024;

/**
 * One delivery attempt: signs the body with every live secret (Standard
 * Webhooks headers), POSTs it through the outbound guard with the policy's
 * time limit, and says what came of it. Never throws for the receiver's
 * sake: refusals, timeouts and non-2xx answers are outcomes.
 *
 * A send whose connection is lost before any answer (`OutboundFailed.noAnswer`) is sent
 * once more at once, within what is left of the time limit, and the outcome carries a
 * `note` saying so. workerd keeps connections alive between requests, and one the
 * receiver closes as idle just as the next request is written fails that request before
 * it could be answered (Node 20's http server closes one about 6 s after its last answer;
 * measured under `npm start` in docs/webhooks.md); the second send goes on a new connection
 * (test/node/webhooks-e2e.test.ts drives it through workerd). Webhooks are
 * at-least-once with a stable `webhook-id`, so a receiver that did get the first copy
 * dedupes the second. Never after an answer began, a timeout, or a refusal.
 *
 * @example
 * const outcome = await attemptDelivery(url, message, ["whsec_…"], policy, deps);
 * if (outcome.kind === "delivered") …
 */
export async function attemptDelivery(
  url: string,
  message: { message_id: string; body: string },
  secrets: readonly string[],
  policy: DeliveryPolicy,
  deps: AttemptDeps,
): Promise<AttemptOutcome> {
  const started = deps.now();
  const headers = await webhookHeaders(secrets, message.message_id, Math.floor(started / 1000), message.body);
  const send = (timeoutMs: number) =>
    safeFetch(
      url,
      {
        method: "POST",
        headers: { ...headers, "user-agent": "plinth-webhooks/1.0" },
        body: message.body,
        timeoutMs,
        maxResponseBytes: policy.maxResponseBytes,
      },
      {
        policy: deps.outbound,
        resolver: deps.resolver,
        now: deps.now,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.sleeper ? { sleeper: deps.sleeper } : {}),
      },
    );
  let note: { note: string } | Record<string, never> = {};
  try {
    let response: OutboundResponse;
    try {
      response = await send(policy.attemptTimeoutMs);
    } catch (error) {
      const left = policy.attemptTimeoutMs - (deps.now() - started);
      if (!(error instanceof OutboundFailed && error.noAnswer) || left <= 0) throw error;
      note = { note: `sent twice: the first connection was lost before any answer (${error.message})` };
      response = await send(left);
    }
    const kept = response.body.slice(0, KEPT_RESPONSE_CHARS);
    // Both sends' time when there were two.
    const latencyMs = Math.round("note" in note ? deps.now() - started : response.durationMs);
    if (response.status >= 200 && response.status < 300) {
      return { kind: "delivered", status: response.status, latencyMs, response: kept, ...note };
    }
    const wait = retryAfterMs(response.headers.get("retry-after"), deps.now());
    return {
      kind: "rejected",
      status: response.status,
      latencyMs,
      response: kept,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
      ...note,
    };
  } catch (error) {
    const latencyMs = Math.max(Math.round(deps.now() - started), 0);
    // The second send resolves the name again: it can be refused where the first was not.
    if (error instanceof OutboundRefused) return { kind: "refused", latencyMs, error: error.reason, ...note };
    if (error instanceof OutboundFailed) return { kind: "unreachable", latencyMs, error: error.message, ...note };
    throw error;
  }
}
