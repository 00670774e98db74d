import { systemOrigin } from "../events/origin";
import type { ModuleRuntime } from "../modules/types";
import { letterActorOf } from "../queues/dead-letter-audit";
import { mailDeadLetterStore } from "./dead-letters";
import { replayPending } from "./replay";
import { UNQUEUED } from "./unqueued";

/**
 * How long after it was kept a request's mail that the MAIL queue would not take (unqueued.ts) is
 * sent again on its own: an hour. The user asked for it a moment before and waits for it (a
 * reset lives an hour); past that, whether to send it (or dismiss it, its token perhaps expired)
 * is the operator's call, as for any other mail dead letter.
 */
export const UNQUEUED_RESEND_MS = 60 * 60_000;

/** Letters sent per replay, and replays per run: a run sends at most 1,000, the rest wait for the next minute. */
const PAGE = 100;
const PAGES_PER_RUN = 10;

/**
 * Sends the pending mail dead letters kept in the last {@link UNQUEUED_RESEND_MS} because the
 * queue would not take them, back to the MAIL queue, as the operator's `replay-pending` does
 * (claimed, recorded in their tenants' audit logs with `by` as the `system` actor, marked
 * replayed), so a queue that failed for minutes delays the mail rather than loses it or waits
 * for an operator. Only those: a letter the consumer gave up on has a cause an operator fixes
 * first. While the queue still refuses, the letters stay pending (their claims given up) and the
 * run fails, to try again at its next fire. One indexed read when none wait.
 *
 * @example
 * await resendUnqueued(runtime, "tenants/resend-unqueued-mail"); // { resent: 3, more: false }
 */
export async function resendUnqueued(
  runtime: Pick<ModuleRuntime, "env" | "log" | "clock">,
  by: string,
): Promise<{ resent: number; more: boolean }> {
  // One reading: the letters' window and the records' time.
  const actor = letterActorOf(systemOrigin(runtime.clock, by));
  const { now } = actor;
  const filter = { queue: UNQUEUED, receivedSince: new Date(now.getTime() - UNQUEUED_RESEND_MS) };
  if (!(await mailDeadLetterStore(runtime.env.DB).hasPending(now, filter))) return { resent: 0, more: false };
  const parts = { env: runtime.env, log: runtime.log, by: actor, now };
  let resent = 0;
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    const { replayed, more } = await replayPending(parts, PAGE, filter);
    resent += replayed;
    if (!more) return { resent, more: false };
  }
  return { resent, more: true };
}
