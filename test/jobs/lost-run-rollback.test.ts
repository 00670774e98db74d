// A JobRunner writes off a lease that ran out unreported as a lost run, and counts and logs it.
// It counted and logged inside the write-off's transaction: one that rolled back (a full disk) had
// counted a lost run storage never recorded, and its retry, which recorded it, counted it again.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jobRunner } from "../../src/kernel/jobs/contract";
import { warningLines } from "../log-lines";
import { failNextTransaction } from "../storage-faults";

const LOST = "job lease ran out before its run reported; recorded as lost";

describe("a JobRunner write-off whose transaction rolls back", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs the lost run once, when its retry records it", async () => {
    const lines = warningLines();
    const job = `probe/lost-rollback-${crypto.randomUUID()}`;
    const runner = jobRunner(env, job);
    const first = await runner.acquire({ job, fire: 1_000_000, trigger: "cron", lease_ms: 200 });
    expect(first.granted).toBe(true);
    // The lease timer's transaction, the next one, fails as a full disk would, after its writes.
    await failNextTransaction(env.JOB_RUNNER.getByName(job));
    // The timer fires when the lease ends, fails, and is retried a second or so later.
    await vi.waitFor(
      async () => expect((await runner.status({ limit: 10 })).runs).toMatchObject([{ outcome: "lost" }]),
      { timeout: 10_000, interval: 50 },
    );
    // Its own lines only: another file's objects may fail and say so meanwhile (a runner's failure
    // names no job, but only this test fills a JobRunner's disk).
    const failed = lines.filter(
      (l) =>
        l.msg === "actor handler failed" && l.actor === "JobRunner" && String(l.error_message).includes("SQLITE_FULL"),
    );
    expect(failed, JSON.stringify(lines)).toHaveLength(1);
    expect(lines.filter((l) => l.msg === LOST && l.job === job)).toHaveLength(1);
  });
});
