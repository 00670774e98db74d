/** Async policies' admissions, told to their keys' objects after the response (docs/gateway.md). */
import type { Context } from "hono";
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
 */
interface Unreported {
  rate: Rate;
  count: number;
  flight: Promise<void> | null;
}
const unreported = new Map<string, Unreported>();

/** The pause between a flight's reports, and how many it makes at most (about 4 s; see `flush`). */
const REPORT_GAP_MS = 100;
const FLIGHT_REPORTS = 40;

/** Counts one admitted request of bucket `id` towards its object, after the response. */
export function report(c: Context<AppEnv>, id: string, rate: Rate): void {
  let pending = unreported.get(id);
  if (!pending) {
    pending = { rate, count: 0, flight: null };
    unreported.set(id, pending);
  }
  pending.count++;
  if (pending.flight) return; // the flight under way carries this count too
  const entry = pending;
  // Started on the next microtask, so `flight` is set before `flush` can clear it. The waitUntil of
  // the request that starts it keeps it alive to its end.
  entry.flight = Promise.resolve().then(() => flush(c, id, entry));
  background(c, entry.flight);
}

/**
 * Reports `pending`'s count, waits REPORT_GAP_MS while more arrive, and
 * reports again, until a gap passes with nothing new. A quiet key is reported
 * at once; a busy one costs its object a few calls a second, whatever its
 * request rate. The flight lives in the waitUntil of the request that started
 * it, so it stops after FLIGHT_REPORTS and leaves any rest to the key's next
 * request rather than outlive the runtime's limit on that.
 */
async function flush(c: Context<AppEnv>, id: string, pending: Unreported): Promise<void> {
  for (let reports = 0; pending.count > 0 && reports < FLIGHT_REPORTS; reports++) {
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
    // On the platform's sleeper, as every wait: a test ends the gap by moving time.
    await c.get("sleeper").sleep(REPORT_GAP_MS);
  }
  pending.flight = null;
  if (pending.count === 0) unreported.delete(id);
}
