/**
 * The one rule for "a claim with a time, taken for lost": work under way (a metrics flush, a
 * rate-limit report flight, the inline pass, a migrations look, a request's place in the
 * failure gate) records when it last moved, and a later caller that finds it still there decides
 * by this whether to wait on it or take over. The work may never finish: its request's context
 * was torn down (a time limit, a client gone), and a promise of a context that is gone never settles.
 *
 * Lost once held `ms` or longer. A clock that reads earlier than the claim is not the clock that
 * made it (set back, or another caller's), so how long the claim has been held cannot be told:
 * that too counts as lost once `ms` apart, or the work would be waited on until the clock caught
 * up again (for ever, for a clock set back by years in a test).
 *
 * @example
 * if (flight && !lapsed(flight.movedAt, now, FLIGHT_STUCK_MS)) return; // it carries this too
 */
export function lapsed(since: number, now: number, ms: number): boolean {
  return Math.abs(now - since) >= ms;
}
