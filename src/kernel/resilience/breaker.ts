/**
 * A circuit breaker: stop calling a dependency that keeps failing, so its
 * callers fail fast and it gets room to recover, then let a few probes
 * through to find out whether it has. The state machine is pure and its
 * state a small JSON value (at most {@link BREAKER_BUCKETS} counters), so a
 * Durable Object can keep it in storage between messages; {@link CircuitBreaker}
 * wraps it for one isolate.
 *
 * closed ──(≥ minimumCalls in the window, failure rate ≥ failureRate)──▶ open
 * open ──(coolDownMs passed: the next call is a probe)──▶ half_open
 * half_open ──(halfOpenProbes successes)──▶ closed
 * half_open ──(a probe fails)──▶ open for another coolDownMs
 */
import type { Clock } from "../clock";
import { RetryableError } from "./retry";

/** When the breaker opens and how it recovers. */
export interface BreakerPolicy {
  /** How far back calls count toward the failure rate, ms. */
  windowMs: number;
  /** Fewer calls than this in the window never open the breaker. */
  minimumCalls: number;
  /** Share of failed calls in the window (0 < rate ≤ 1) that opens it. */
  failureRate: number;
  /** How long it stays open before probing, ms. */
  coolDownMs: number;
  /** Probes admitted at once in half-open, and the successes that close it. */
  halfOpenProbes: number;
}

/** Calls and failures that began in one slice of the window. */
export interface BreakerBucket {
  /** Start of the slice, epoch ms. */
  at: number;
  calls: number;
  failures: number;
}

/** The breaker's whole state: plain JSON, bounded in size. */
export type BreakerState =
  | { status: "closed"; buckets: BreakerBucket[] }
  | { status: "open"; openedAt: number; until: number }
  | {
      status: "half_open";
      /** Probes admitted and not yet recorded. */
      inFlight: number;
      successes: number;
      /** When the last probe was admitted, epoch ms. */
      probedAt: number;
    };

/** What {@link breakerAllow} decided. */
export interface BreakerDecision {
  allowed: boolean;
  /** The state to keep; the same object when nothing changed. */
  state: BreakerState;
  /** Set whenever refused: when a call may be admitted again, epoch ms. */
  retryAt?: number;
}

/** The window is cut into this many slices; a call is forgotten within windowMs of it. */
export const BREAKER_BUCKETS = 10;

/** A closed breaker with no history. */
export function initialBreaker(): BreakerState {
  return { status: "closed", buckets: [] };
}

/**
 * Whether a call may go ahead at `now`. Closed: always. Open: not until
 * the cool-down has passed, then the call is the first probe (half-open).
 * Half-open: while fewer than `halfOpenProbes` probes are in flight. Probes
 * never recorded (an isolate that died mid-call) are written off after
 * another `coolDownMs`, so a lost probe cannot wedge the breaker.
 *
 * @example
 * const d = breakerAllow(this.breaker, now, policy);
 * this.breaker = d.state;
 * if (!d.allowed) return { ok: false, retryAt: d.retryAt };
 */
export function breakerAllow(state: BreakerState, now: number, policy: BreakerPolicy): BreakerDecision {
  checkPolicy(policy);
  switch (state.status) {
    case "closed":
      return { allowed: true, state };
    case "open":
      if (now < state.until) return { allowed: false, state, retryAt: state.until };
      return { allowed: true, state: { status: "half_open", inFlight: 1, successes: 0, probedAt: now } };
    case "half_open": {
      const lost = now >= state.probedAt + policy.coolDownMs;
      const inFlight = lost ? 0 : state.inFlight;
      if (inFlight >= policy.halfOpenProbes) {
        return { allowed: false, state, retryAt: state.probedAt + policy.coolDownMs };
      }
      return { allowed: true, state: { ...state, inFlight: inFlight + 1, probedAt: now } };
    }
  }
}

/**
 * The state after a call admitted by {@link breakerAllow} ended at `now`,
 * `ok` or not. Closed: counts it, and opens when the window holds at least
 * `minimumCalls` calls of which at least `failureRate` failed. Half-open: a
 * failure reopens for another cool-down; `halfOpenProbes` successes close
 * with a fresh window. Open: a late result changes nothing.
 *
 * @example
 * this.breaker = breakerRecord(this.breaker, res.ok, now, policy);
 */
export function breakerRecord(state: BreakerState, ok: boolean, now: number, policy: BreakerPolicy): BreakerState {
  checkPolicy(policy);
  switch (state.status) {
    case "open":
      return state;
    case "half_open":
      if (!ok) return { status: "open", openedAt: now, until: now + policy.coolDownMs };
      if (state.successes + 1 >= policy.halfOpenProbes) return initialBreaker();
      return { ...state, inFlight: Math.max(0, state.inFlight - 1), successes: state.successes + 1 };
    case "closed": {
      const buckets = count(live(state.buckets, now, policy), ok, now, policy);
      let calls = 0;
      let failures = 0;
      for (const b of buckets) {
        calls += b.calls;
        failures += b.failures;
      }
      if (calls >= policy.minimumCalls && failures >= policy.failureRate * calls) {
        return { status: "open", openedAt: now, until: now + policy.coolDownMs };
      }
      return { status: "closed", buckets };
    }
  }
}

/**
 * What a call at `now` would meet: an open breaker whose cool-down has
 * passed reads as half-open, since the next call is a probe.
 *
 * @example
 * metrics.gauge("breaker_open", breakerStatus(state, now, policy) === "open" ? 1 : 0);
 */
export function breakerStatus(state: BreakerState, now: number, policy: BreakerPolicy): BreakerState["status"] {
  checkPolicy(policy);
  if (state.status === "open" && now >= state.until) return "half_open";
  return state.status;
}

function sliceMs(policy: BreakerPolicy): number {
  return Math.max(1, Math.ceil(policy.windowMs / BREAKER_BUCKETS));
}

// Slices are dropped once their start is windowMs old, so no call counts for longer than the window.
function live(buckets: BreakerBucket[], now: number, policy: BreakerPolicy): BreakerBucket[] {
  return buckets.filter((b) => now - b.at < policy.windowMs);
}

function count(buckets: BreakerBucket[], ok: boolean, now: number, policy: BreakerPolicy): BreakerBucket[] {
  const width = sliceMs(policy);
  const at = Math.floor(now / width) * width;
  const failures = ok ? 0 : 1;
  const last = buckets.at(-1);
  // A clock that stepped back, or a policy whose slices changed since the state was
  // stored, lands the call in the newest slice rather than growing the list out of order.
  if (last && last.at >= at) {
    return [...buckets.slice(0, -1), { at: last.at, calls: last.calls + 1, failures: last.failures + failures }];
  }
  return [...buckets, { at, calls: 1, failures }];
}

function checkPolicy(p: BreakerPolicy): void {
  if (!(p.windowMs > 0 && Number.isFinite(p.windowMs))) throw new RangeError(`windowMs must be > 0, got ${p.windowMs}`);
  if (!(p.minimumCalls >= 1)) throw new RangeError(`minimumCalls must be ≥ 1, got ${p.minimumCalls}`);
  if (!(p.failureRate > 0 && p.failureRate <= 1)) {
    throw new RangeError(`failureRate must be in (0, 1], got ${p.failureRate}`);
  }
  if (!(p.coolDownMs >= 0 && Number.isFinite(p.coolDownMs))) {
    throw new RangeError(`coolDownMs must be a finite number ≥ 0, got ${p.coolDownMs}`);
  }
  if (!(p.halfOpenProbes >= 1)) throw new RangeError(`halfOpenProbes must be ≥ 1, got ${p.halfOpenProbes}`);
}

/** Refused by an open (or fully probed half-open) breaker. Retryable after `retryAt`. */
export class CircuitOpenError extends RetryableError {
  /** When a call may be admitted again, epoch ms. */
  readonly retryAt: number | undefined;

  constructor(retryAt: number | undefined, now: number) {
    super(
      retryAt === undefined ? "circuit open" : `circuit open until ${new Date(retryAt).toISOString()}`,
      retryAt === undefined ? {} : { retryAfterMs: Math.max(0, retryAt - now) },
    );
    this.name = "CircuitOpenError";
    this.retryAt = retryAt;
  }
}

/**
 * The breaker for calls made from one isolate (or one object), holding the
 * state in memory. Every error `fn` throws counts as a failure.
 *
 * @example
 * const payments = new CircuitBreaker(
 *   { windowMs: 30_000, minimumCalls: 10, failureRate: 0.5, coolDownMs: 15_000, halfOpenProbes: 2 },
 *   clock,
 * );
 * const res = await payments.run(() => fetchOrThrow(url));
 */
export class CircuitBreaker {
  #state: BreakerState;

  constructor(
    readonly policy: BreakerPolicy,
    private readonly clock: Clock,
    initial: BreakerState = initialBreaker(),
  ) {
    checkPolicy(policy);
    this.#state = initial;
  }

  /** Runs `fn` if admitted and records how it ended; else throws {@link CircuitOpenError}. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const now = this.#now();
    const decision = breakerAllow(this.#state, now, this.policy);
    this.#state = decision.state;
    if (!decision.allowed) throw new CircuitOpenError(decision.retryAt, now);
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.#state = breakerRecord(this.#state, false, this.#now(), this.policy);
      throw error;
    }
    this.#state = breakerRecord(this.#state, true, this.#now(), this.policy);
    return value;
  }

  /** The state, to store or inspect; plain JSON. */
  snapshot(): BreakerState {
    return this.#state;
  }

  /** What a call now would meet. */
  status(): BreakerState["status"] {
    return breakerStatus(this.#state, this.#now(), this.policy);
  }

  #now(): number {
    return this.clock.now().getTime();
  }
}
