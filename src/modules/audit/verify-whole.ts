import { isSubrequestLimit } from "../../kernel/resilience/subrequest-limit";
import type { StepReport } from "./verify";

/**
 * A whole walk that could not be finished in this request: the runtime refused the next step's
 * request to the AuditLog object, the request being out of subrequests. Every entry before
 * `next_from_seq` verified (`verified` of them, from seq 1); nothing past it was looked at.
 */
export interface WalkCutShort {
  cut_short: true;
  verified: number;
  next_from_seq: number;
  /** The runtime's error, for the log. */
  cause: unknown;
}

/**
 * A whole chain's verification made of bounded steps (verify.ts's `verifyStep`), each its own
 * request to the AuditLog object: from seq 1, each step from the last one's `next_from_seq`,
 * until one reaches the end or finds a fault. The object serves the tenant's appends between
 * steps, and no one request of it recomputes more than a step's entries, whatever the log's
 * length. The answer is the last step's, from seq 1, with `entries` the seqs every step covered:
 * `ok` says the whole chain verified, as it did before verification came in steps.
 *
 * Each step is a subrequest of the caller's request, which the platform bounds (50 on Workers
 * Free): a step the runtime refuses for that ({@link isSubrequestLimit}) ends the walk with
 * {@link WalkCutShort}, how far it got, so the caller can say where to go on from. A fault found
 * before is answered as a fault (the walk stopped there); any other error of a step is thrown.
 *
 * @example
 * const whole = await verifyWhole((fromSeq) => auditLog(env, tenantId).verify({ fromSeq }));
 * if ("cut_short" in whole) …; else whole.ok …
 */
export async function verifyWhole<S extends StepReport>(
  step: (fromSeq: number) => Promise<S>,
): Promise<S | WalkCutShort> {
  const attempt = async (fromSeq: number): Promise<S | WalkCutShort> => {
    try {
      return await step(fromSeq);
    } catch (error) {
      if (!isSubrequestLimit(error)) throw error;
      // Steps from seq 1 cover consecutive seqs: every one before this step's first verified.
      return { cut_short: true, verified: fromSeq - 1, next_from_seq: fromSeq, cause: error };
    }
  };
  let last = await attempt(1);
  if ("cut_short" in last) return last;
  let entries = last.entries;
  while (last.next_from_seq !== null) {
    const next: S | WalkCutShort = await attempt(last.next_from_seq);
    if ("cut_short" in next) return next;
    last = next;
    entries += last.entries;
  }
  return { ...last, from_seq: 1, entries };
}
