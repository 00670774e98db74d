/** Async policies' admissions, told to their keys' objects after the response (docs/gateway.md). */
import type { Context } from "hono";
import { lapsed } from "../clock/lapsed";
import type { AppEnv } from "../env";
import { background } from "../http/background";
import { errorFields } from "../log";
import { rateLimiterOf } from "./contract";
import type { Rate } from "./gcra";
import { blockedUntil, blockKey, estimateAt, estimates, limiterStats } from "./isolate-state";

/**
 * Admissions made on the estimate and not yet told to their key's object.
 * At most one report per key is in flight; what is admitted meanwhile goes
 * in the next one. Entries leave when their count is reported.
 *
 * The map is the isolate's, shared by every request it serves, and a flight runs in the
 * `waitUntil` of the request that started it: so what requests share is plain data (the count,
 * and the flight's claim with when it last moved), never the flight's promise. If that request's
 * context is torn down mid-flight (its time limit, a test file ending), its call never settles;
 * a claim that has not moved for {@link FLIGHT_STUCK_MS} is taken for lost, and the key's next
 * admitted request starts a flight of its own. Before, the lost flight's claim stayed for the
 * isolate's life and the key's async counts were never reported again.
 */
interface Unreported {
  rate: Rate;
  count: number;
  /** The flight under way: when it last moved (started, or a report settled), by its request's clock. */
  flight: { movedAt: number } | null;
}
const unreported = new Map<string, Unreported>();

/** The pause between a flight's reports, and how many it makes at most (about 4 s; see `flush`). */
const REPORT_GAP_MS = 100;
const FLIGHT_REPORTS = 40;

/**
 * How long a flight may go without moving (a report settling, a gap ending) before a request of
 * its key takes it for lost and starts another. Well past a report's gap and a healthy call; the
 * counts of the lost flight's last report are not sent again (they may have reached the object,
 * which would count them twice).
 */
export const FLIGHT_STUCK_MS = 5_000;

/** Counts one admitted request of bucket `id` towards its object, after the response. */
export function report(c: Context<AppEnv>, id: string, rate: Rate): void {
  let pending = unreported.get(id);
  if (!pending) {
    pending = { rate, count: 0, flight: null };
    unreported.set(id, pending);
  }
  pending.count++;
  const now = c.get("clock").now().getTime();
  // The flight under way carries this count too, unless it is lost (or its clock is another one, moved back).
  if (pending.flight && !lapsed(pending.flight.movedAt, now, FLIGHT_STUCK_MS)) return;
  if (pending.flight) {
    c.get("log").warn("rate limiter report never settled; the key's next flight takes over", {
      stalled_ms: now - pending.flight.movedAt,
    });
  }
  const claim = { movedAt: now };
  pending.flight = claim;
  const entry = pending;
  // Started on the next microtask, as the request's own work goes first. The waitUntil of the
  // request that starts it keeps it alive to its end.
  background(
    c,
    Promise.resolve().then(() => flush(c, id, entry, claim)),
  );
}

/**
 * Reports `pending`'s count, waits REPORT_GAP_MS while more arrive, and
 * reports again, until a gap passes with nothing new. A quiet key is reported
 * at once; a busy one costs its object a few calls a second, whatever its
 * request rate. The flight lives in the waitUntil of the request that started
 * it, so it stops after FLIGHT_REPORTS and leaves any rest to the key's next
 * request rather than outlive the runtime's limit on that. A flight whose claim
 * another took over (it was taken for lost) stops, and touches nothing more.
 */
async function flush(c: Context<AppEnv>, id: string, pending: Unreported, claim: { movedAt: number }): Promise<void> {
  const mine = () => pending.flight === claim;
  for (let reports = 0; mine() && pending.count > 0 && reports < FLIGHT_REPORTS; reports++) {
    const count = pending.count;
    pending.count = 0;
    const now = c.get("clock").now().getTime();
    try {
      limiterStats.asyncReports++;
      const remote = await rateLimiterOf(c.env, id).record({ rate: pending.rate, now, count });
      estimates.set(id, { tat: Math.max(estimateAt(id, pending.rate, now), remote.tat), rate: pending.rate });
      if (!remote.allowed) {
        limiterStats.asyncOverAdmitted++;
        blockedUntil.set(blockKey(id, pending.rate), now + remote.retryAfterMs, remote.retryAfterMs);
      }
    } catch (error) {
      // Nothing is lost: the counts go back and the key's next admitted request reports them.
      pending.count += count;
      limiterStats.failures++;
      c.get("log").warn("rate limiter unreachable; async counts kept for the next report", errorFields(error));
      break;
    }
    if (!mine()) return;
    claim.movedAt = c.get("clock").now().getTime();
    // On the platform's sleeper, as every wait: a test ends the gap by moving time.
    await c.get("sleeper").sleep(REPORT_GAP_MS);
    if (mine()) claim.movedAt = c.get("clock").now().getTime();
  }
  if (!mine()) return;
  pending.flight = null;
  if (pending.count === 0 && unreported.get(id) === pending) unreported.delete(id);
}
