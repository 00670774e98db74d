import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { jobRunner } from "../../src/kernel/jobs/contract";
import { createScheduledHandler } from "../../src/kernel/jobs/scheduled";
import type { JobDef, ModuleDef } from "../../src/kernel/modules/types";
import { expectProblem, testApp } from "../helpers";

/** A module of test jobs named `probe`; the JobRunner objects are the deployed ones, named `probe/<job>`. */
const probe = (jobs: JobDef[]): ModuleDef => ({ name: "probe", version: "1.0.0", jobs });
const handlerOf = (jobs: JobDef[]) =>
  createScheduledHandler({ modules: [probe(jobs)], needs: KERNEL_NEEDS, clock: systemClock });
const tick = (handler: ReturnType<typeof handlerOf>, at: string) =>
  handler(createScheduledController({ scheduledTime: new Date(at), cron: "* * * * *" }), env, createExecutionContext());

const root = { authorization: `Bearer ${env.PLATFORM_ROOT_KEY}` };

interface JobView {
  module: string;
  job: string;
  cron: string;
  catch_up_ms: number;
  next_due: string | null;
  running: unknown;
  last_run: {
    fire_time: string;
    trigger: string;
    outcome: string;
    attempts: { outcome: string; error: string | null }[];
  } | null;
  recent_runs: unknown[];
}

async function jobsOf(mod: ModuleDef): Promise<JobView[]> {
  const res = await testApp([mod]).fetch("/api/v1/platform/jobs", { headers: root });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: JobView[] }).items;
}

describe("the scheduler", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs a job whose cron is not in wrangler.toml when it is due, for its fire time, and not otherwise", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const fired: string[] = [];
    const job: JobDef = {
      name: "every-third-hour",
      cron: "7 */3 * * *",
      run: async ({ scheduledTime }) => void fired.push(new Date(scheduledTime).toISOString()),
    };
    const handler = handlerOf([job]);
    await tick(handler, "2030-01-01T03:06:00.000Z");
    await tick(handler, "2030-01-01T03:07:00.000Z");
    await tick(handler, "2030-01-01T03:08:00.000Z");
    await tick(handler, "2030-01-01T04:07:00.000Z");
    expect(fired).toEqual(["2030-01-01T03:07:00.000Z"]);
    // A tick late within its minute still finds the fire time, and runs it for that time.
    await tick(handler, "2030-01-01T06:07:41.250Z");
    expect(fired).toEqual(["2030-01-01T03:07:00.000Z", "2030-01-01T06:07:00.000Z"]);

    const [view] = await jobsOf(probe([job]));
    expect(view).toMatchObject({ module: "probe", job: "every-third-hour", cron: "7 */3 * * *", running: null });
    expect(view?.last_run).toMatchObject({ fire_time: "2030-01-01T06:07:00.000Z", trigger: "cron", outcome: "ok" });
    expect(view?.recent_runs).toHaveLength(2);
    expect(Date.parse(view?.next_due ?? "")).toBeGreaterThan(systemClock.now().getTime());
  });

  it("runs a fire time a lost tick missed at the next tick within its catch-up window, once, and skips older ones", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const fired: string[] = [];
    const record = async ({ scheduledTime }: { scheduledTime: number }) =>
      void fired.push(new Date(scheduledTime).toISOString());
    const hourly: JobDef = { name: "catch-up-hourly", cron: "0 * * * *", run: record };
    const strict: JobDef = { name: "catch-up-none", cron: "30 * * * *", catch_up_ms: 0, run: record };
    const handler = handlerOf([hourly, strict]);
    // 05:00 and 05:30 never ticked; 05:03 and 05:33 did.
    await tick(handler, "2030-01-05T05:03:00.000Z");
    await tick(handler, "2030-01-05T05:04:00.000Z");
    await tick(handler, "2030-01-05T05:33:00.000Z");
    expect(fired).toEqual(["2030-01-05T05:00:00.000Z"]);
    // Another isolate (a new handler) asks its JobRunner, which refuses the fire time that ran.
    await tick(handlerOf([hourly, strict]), "2030-01-05T05:05:00.000Z");
    expect(fired).toHaveLength(1);
    // Past the default 15 minutes, a missed fire time is skipped.
    await tick(handler, "2030-01-05T06:16:00.000Z");
    expect(fired).toHaveLength(1);
    await tick(handler, "2030-01-05T07:00:00.000Z");
    await tick(handler, "2030-01-05T07:30:00.000Z");
    expect(fired).toEqual(["2030-01-05T05:00:00.000Z", "2030-01-05T07:00:00.000Z", "2030-01-05T07:30:00.000Z"]);
    // The jobs list shows each window.
    const views = await jobsOf(probe([hourly, strict]));
    expect(views.map((v) => [v.job, v.catch_up_ms])).toEqual([
      ["catch-up-hourly", 900_000],
      ["catch-up-none", 0],
    ]);
  });

  it("runs a due job once when two invocations of the same tick overlap, and not again on a third", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    let runs = 0;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = handlerOf([
      {
        name: "slow",
        cron: "*/5 * * * *",
        run: async () => {
          runs++;
          await gate;
        },
      },
    ]);
    const first = tick(handler, "2030-01-02T00:05:00.000Z");
    // The second asks while the first holds the lease: refused, it returns without running anything.
    await vi.waitFor(() => expect(runs).toBe(1));
    await tick(handler, "2030-01-02T00:05:00.000Z");
    release();
    await first;
    await tick(handler, "2030-01-02T00:05:00.000Z");
    expect(runs).toBe(1);
    // Both at once, from the start.
    await Promise.all([tick(handler, "2030-01-02T00:10:00.000Z"), tick(handler, "2030-01-02T00:10:00.000Z")]);
    expect(runs).toBe(2);
  });

  it("retries a failing job per its policy, fails the invocation, and records every attempt", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    let calls = 0;
    const broken: JobDef = {
      name: "broken",
      cron: "0 0 * * *",
      retry: { attempts: 3, base_ms: 1, max_ms: 5 },
      run: async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
    };
    let flaky = 0;
    const recovers: JobDef = {
      name: "recovers",
      cron: "0 0 * * *",
      retry: { attempts: 4, base_ms: 1, max_ms: 5 },
      run: async ({ attempt }) => {
        flaky++;
        if (attempt < 3) throw new Error("not yet");
      },
    };
    await expect(tick(handlerOf([broken, recovers]), "2030-01-03T00:00:00.000Z")).rejects.toThrow(
      "1 of 2 due jobs failed",
    );
    expect({ calls, flaky }).toEqual({ calls: 3, flaky: 3 });

    const views = await jobsOf(probe([broken, recovers]));
    const byName = new Map(views.map((v) => [v.job, v]));
    expect(byName.get("broken")?.last_run).toMatchObject({
      fire_time: "2030-01-03T00:00:00.000Z",
      outcome: "failed",
      attempts: [
        { outcome: "failed", error: "Error: boom 1" },
        { outcome: "failed", error: "Error: boom 2" },
        { outcome: "failed", error: "Error: boom 3" },
      ],
      error: "Error: boom 3",
    });
    expect(byName.get("recovers")?.last_run).toMatchObject({
      outcome: "ok",
      attempts: [{ outcome: "failed" }, { outcome: "failed" }, { outcome: "ok" }],
      error: null,
    });
  });

  it("records a failed query's statement in the run, never the values bound to it", async () => {
    // The run's error was `${name}: ${message}`: for drizzle "Failed query: …\nparams: <every value>", so
    // the rows a job was touching were stored in its JobRunner and answered by GET /platform/jobs.
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const bound = `job-secret-${crypto.randomUUID()}`;
    const failing: JobDef = {
      name: `query-${crypto.randomUUID().slice(0, 8)}`,
      cron: "0 0 * * *",
      retry: { attempts: 1, base_ms: 1, max_ms: 1 },
      run: async () => {
        // Not JSON: SQLite refuses it, a failure of the query itself.
        await drizzle(env.DB).run(sql`select json(${bound}) as j`);
      },
    };
    await expect(tick(handlerOf([failing]), "2030-01-04T00:00:00.000Z")).rejects.toThrow("1 of 1 due jobs failed");
    const [view] = await jobsOf(probe([failing]));
    expect(view?.last_run?.outcome).toBe("failed");
    expect(view?.last_run?.attempts[0]?.error).toContain("select json(?) as j");
    expect(JSON.stringify(view)).not.toContain(bound);
  });

  it("records a failed run's error with the secrets in it masked, as its log line is", async () => {
    // A job's error message may quote what it was handling: a key it found, a token it refreshed.
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const key = `plk_live_${crypto.randomUUID().replaceAll("-", "")}`;
    const failing: JobDef = {
      name: `quoting-${crypto.randomUUID().slice(0, 8)}`,
      cron: "0 0 * * *",
      retry: { attempts: 1, base_ms: 1, max_ms: 1 },
      run: async () => {
        throw new Error(`the provider refused ${key}`);
      },
    };
    await expect(tick(handlerOf([failing]), "2030-01-05T00:00:00.000Z")).rejects.toThrow("1 of 1 due jobs failed");
    const [view] = await jobsOf(probe([failing]));
    expect(view?.last_run?.attempts[0]?.error).toBe("Error: the provider refused plk_[redacted]");
    expect(JSON.stringify(view)).not.toContain(key.slice(4));
  });

  it("gives a job the fire time of its last successful run", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const seen: (number | null)[] = [];
    let fail = false;
    const handler = handlerOf([
      {
        name: "since",
        cron: "0 * * * *",
        run: async ({ lastSuccess }) => {
          seen.push(lastSuccess);
          if (fail) throw new Error("down");
        },
      },
    ]);
    await tick(handler, "2030-01-04T01:00:00.000Z");
    fail = true;
    await expect(tick(handler, "2030-01-04T02:00:00.000Z")).rejects.toThrow();
    fail = false;
    await tick(handler, "2030-01-04T03:00:00.000Z");
    const first = Date.parse("2030-01-04T01:00:00.000Z");
    expect(seen).toEqual([null, first, first]);
  });
});

describe("POST /api/v1/platform/jobs/{module}/{job}/run", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs a job by name and answers its recorded run", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    let runs = 0;
    const { fetch } = testApp([probe([{ name: "count", cron: "0 0 1 1 *", run: async () => void runs++ }])]);
    const res = await fetch("/api/v1/platform/jobs/probe/count/run", { method: "POST", headers: root });
    expect(res.status).toBe(200);
    const run = (await res.json()) as { trigger: string; outcome: string; attempts: unknown[] };
    expect(run).toMatchObject({ trigger: "manual", outcome: "ok", attempts: [{ attempt: 1, outcome: "ok" }] });
    expect(runs).toBe(1);
    // It returned nothing: the run says nothing of what it did.
    expect(run).toMatchObject({ result: null });
  });

  it("answers what the job returned as the run's result, and records it; one too large is noted, not recorded", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { fetch } = testApp([
      probe([
        { name: "counts", cron: "0 0 1 1 *", run: async () => ({ found: 3, by_kind: { a: 2, b: 1 } }) },
        {
          name: "verbose",
          cron: "0 0 1 1 *",
          run: async () => ({ ids: Array.from({ length: 500 }, (_, i) => `id-${i}`) }),
        },
      ]),
    ]);
    const counts = await fetch("/api/v1/platform/jobs/probe/counts/run", { method: "POST", headers: root });
    expect(counts.status).toBe(200);
    expect(await counts.json()).toMatchObject({ outcome: "ok", result: { found: 3, by_kind: { a: 2, b: 1 } } });
    const kept = await jobRunner(env, "probe/counts").status({ limit: 1 });
    expect(kept.runs[0]?.result).toEqual({ found: 3, by_kind: { a: 2, b: 1 } });
    // A job's mistake does not fail the run whose work is done, nor fill its runner's history.
    const verbose = await fetch("/api/v1/platform/jobs/probe/verbose/run", { method: "POST", headers: root });
    expect(await verbose.json()).toMatchObject({
      outcome: "ok",
      result: { result_not_recorded: "longer than 4096 characters as JSON" },
    });
  });

  it("is refused without the root key, names no unknown job, and refuses a second run while one runs", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const { fetch } = testApp([
      probe([
        {
          name: "held",
          cron: "0 0 1 1 *",
          run: async () => {
            runs++;
            await gate;
          },
        },
      ]),
    ]);
    const post = (path: string, headers: Record<string, string> = root) => fetch(path, { method: "POST", headers });
    await expectProblem(await post("/api/v1/platform/jobs/probe/held/run", {}), 401, "unauthenticated");
    await expectProblem(
      await post("/api/v1/platform/jobs/probe/held/run", { authorization: "Bearer not-the-root-key-0123456789abcdef" }),
      401,
      "unauthenticated",
    );
    expect((await fetch("/api/v1/platform/jobs")).status).toBe(401);
    expect(runs).toBe(0);
    const unknown = await expectProblem(await post("/api/v1/platform/jobs/probe/nope/run"), 404, "not_found");
    // "no such job" left the operator to run `plinth jobs list` to find the names: the answer says them.
    expect(unknown.detail).toBe("no job probe/nope; there are: probe/held");

    const first = post("/api/v1/platform/jobs/probe/held/run");
    await vi.waitFor(() => expect(runs).toBe(1));
    await expectProblem(await post("/api/v1/platform/jobs/probe/held/run"), 409, "conflict");
    release();
    expect((await first).status).toBe(200);
    expect(runs).toBe(1);
    expect(warned.mock.calls.map(([line]) => JSON.parse(String(line)).msg)).toEqual([
      "job not run: its previous run still holds the lease",
    ]);
  });
});

describe("the JobRunner lease", () => {
  it("records a run whose lease ran out unreported as lost, and lets the next fire time run", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const runner = jobRunner(env, "probe/lost");
    const first = await runner.acquire({ job: "probe/lost", fire: 1_000_000, trigger: "cron", lease_ms: 1 });
    expect(first.granted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The lease's timer finds it expired and records the run as lost. It is due at once, so the
    // object's own alarm may be running it already (then runDurableObjectAlarm finds none): wait for it.
    const stub = env.JOB_RUNNER.getByName("probe/lost");
    await runDurableObjectAlarm(stub);
    const status = await vi.waitFor(
      async () => {
        const now = await runner.status({ limit: 10 });
        expect(now.running).toBeNull();
        return now;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(status.runs).toMatchObject([{ fire: 1_000_000, outcome: "lost", attempts: [] }]);
    // The same fire time never runs twice; the next one does.
    expect(
      await runner.acquire({ job: "probe/lost", fire: 1_000_000, trigger: "cron", lease_ms: 1_000 }),
    ).toMatchObject({ granted: false, reason: "already_ran" });
    const next = await runner.acquire({ job: "probe/lost", fire: 1_060_000, trigger: "cron", lease_ms: 60_000 });
    expect(next).toMatchObject({ granted: true, last_success: null });
    // A report that arrives after the lease was written off still lands.
    if (!first.granted) throw new Error("unreachable");
    const late = await runner.finish({
      lease_id: first.lease.id,
      outcome: "ok",
      duration_ms: 12,
      attempts: [{ attempt: 1, outcome: "ok", duration_ms: 12, error: null }],
      error: null,
    });
    expect(late.run).toMatchObject({ fire: 1_000_000, outcome: "ok" });
    expect((await runner.status({ limit: 10 })).running).toMatchObject({ fire: 1_060_000 });
    vi.restoreAllMocks();
  });

  it("keeps a bounded history", async () => {
    const runner = jobRunner(env, "probe/history");
    for (let i = 1; i <= 55; i++) {
      const lease = await runner.acquire({ job: "probe/history", fire: i * 60_000, trigger: "cron", lease_ms: 60_000 });
      if (!lease.granted) throw new Error(`fire ${i} refused`);
      await runner.finish({
        lease_id: lease.lease.id,
        outcome: "ok",
        duration_ms: 1,
        attempts: [{ attempt: 1, outcome: "ok", duration_ms: 1, error: null }],
        error: null,
      });
    }
    const count = await runInDurableObject(env.JOB_RUNNER.getByName("probe/history"), (_, state) =>
      state.storage.sql.exec<{ n: number }>("select count(*) as n from runs").one(),
    );
    expect(count.n).toBe(50);
    expect((await runner.status({ limit: 50 })).last_success).toBe(55 * 60_000);
  });
});
