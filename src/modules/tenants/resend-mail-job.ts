import type { JobDef } from "../../kernel/modules/types";
import { resendUnqueued } from "../../kernel/notify/resend-unqueued";

const NAME = "resend-unqueued-mail";

/**
 * Every minute: the mail requests could not queue while the MAIL queue failed (kept as mail dead
 * letters, kernel/notify/unqueued.ts) goes back to the queue once it answers again, for an hour
 * after each was kept (kernel/notify/resend-unqueued.ts). No retry within a run: the next minute
 * is the retry. Here, beside purge-tokens' mail housekeeping, as the platform's own work.
 */
export const resendUnqueuedMail: JobDef = {
  name: NAME,
  cron: "* * * * *",
  lease_ms: 55_000,
  catch_up_ms: 0,
  async run(runtime) {
    const done = await resendUnqueued(runtime, `tenants/${NAME}`);
    if (done.resent > 0) runtime.log.info("unqueued mail sent again", done);
    return done;
  },
};
