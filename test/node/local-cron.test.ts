// npm start's local cron (scripts/lib/local-cron.mjs) against a stand-in for plinth's
// jobs API: while a migration is pending the API's reads answer 503 `unavailable`, and the
// cron waits for it quietly instead of reporting failed ticks.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the scripts, without types
import { startLocalCron } from "../../scripts/lib/local-cron.mjs";

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

/** A server answering each request with the next of `answers` for its path (the last one repeats); logs the paths. */
async function platform(
  answers: Record<string, Answer[]>,
): Promise<{ origin: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    seen.push(path);
    const queue = answers[path] ?? [{ status: 404, body: {} }];
    const answer = (queue.length > 1 ? queue.shift() : queue[0]) as Answer;
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const JOBS = "/api/v1/platform/jobs";
const job = (next_due: string | null) => ({ module: "m", job: "j", next_due, last_run: null });
const migrating: Answer = {
  status: 503,
  headers: { "content-type": "application/problem+json", "retry-after": "0" },
  body: { type: "/problems/unavailable", code: "unavailable", status: 503, title: "Service unavailable" },
};

let stop = () => {};
let server: Server | undefined;
afterEach(() => {
  stop();
  server?.close();
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

describe("the local cron while a migration is pending", () => {
  it("does not report a failed tick when the job list answers 503 unavailable, and reads it again", async () => {
    const p = await platform({
      [JOBS]: [
        { status: 200, body: { items: [job(new Date(Date.now() - 1_000).toISOString())] } },
        migrating,
        migrating,
        { status: 200, body: { items: [job(null)] } },
      ],
      "/cdn-cgi/handler/scheduled": [{ status: 200, body: {} }],
    });
    server = p.server;
    const lines: string[] = [];
    stop = startLocalCron({ origin: p.origin, rootKey: "plk_root", print: (l: string) => lines.push(l) });
    await until(() => p.seen.filter((s) => s === JOBS).length >= 4);
    expect(p.seen.slice(0, 5)).toEqual([JOBS, "/cdn-cgi/handler/scheduled", JOBS, JOBS, JOBS]);
    expect(lines.filter((l) => l.includes("failed") || l.includes("could not"))).toEqual([]);
    expect(lines.length).toBeLessThanOrEqual(1);
  });

  it("still reports any other failure of the job list", async () => {
    const p = await platform({ [JOBS]: [{ status: 500, body: {} }] });
    server = p.server;
    const lines: string[] = [];
    stop = startLocalCron({ origin: p.origin, rootKey: "plk_root", print: (l: string) => lines.push(l) });
    await until(() => lines.length > 0);
    expect(lines[0]).toContain("could not read the jobs (GET /api/v1/platform/jobs answered 500)");
  });
});

describe("the local cron when the Worker takes a request and never answers", () => {
  /** Starts the cron against `hung` with 1 s bounds and answers what it printed once it printed something. */
  async function firstLineFrom(hung: Server): Promise<{ origin: string; lines: string[] }> {
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    server = hung;
    const origin = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const lines: string[] = [];
    stop = startLocalCron({
      origin,
      rootKey: "plk_root",
      print: (l: string) => lines.push(l),
      timeouts: { read: "1s", tick: "1s" },
    });
    for (let i = 0; i < 300 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    hung.closeAllConnections();
    return { origin, lines };
  }

  it("gives up on the job list within its bound and says so, naming the URL and the bound", async () => {
    // A hung workerd held the read for ever: no line, no tick, nothing to tell why jobs stopped.
    const { origin, lines } = await firstLineFrom(createServer(() => {}));
    expect(lines).toEqual([
      `plinth: could not read the jobs (no answer from ${origin}${JOBS} within 1s); trying again in a minute`,
    ]);
  });

  it("gives up on a tick within its bound and says which minute failed", async () => {
    // The job list answers; the tick's request is taken and never answered.
    const due = { items: [job(new Date(Date.now() - 1_000).toISOString())] };
    const { lines } = await firstLineFrom(
      createServer((req, res) => {
        if ((req.url ?? "").startsWith("/cdn-cgi/")) return;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(due));
      }),
    );
    expect(lines[0]).toMatch(
      /^plinth: \d\d:\d\d UTC tick failed \(no answer from http:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/handler\/scheduled\?cron=\*\+\*\+\*\+\*\+\*&time=\d+ within 1s\)$/,
    );
  });
});

/** A platform with one job due whose Worker's port stops answering after the first read of the jobs. */
async function dyingPlatform() {
  const p = await platform({
    [JOBS]: [{ status: 200, body: { items: [job(new Date(Date.now() - 1_000).toISOString())] } }],
  });
  server = p.server;
  p.server.on("request", (req) => {
    if ((req.url ?? "").startsWith("/cdn-cgi/")) p.server.close();
  });
  p.server.prependListener("request", (req, res) => {
    if ((req.url ?? "").startsWith("/cdn-cgi/")) res.socket?.destroy();
  });
  return p;
}

/** The local cron over {@link dyingPlatform}: what it printed, and how often it found nothing listening. */
async function cronOfDyingWorker(extra: { restarting?: () => boolean } = {}) {
  const p = await dyingPlatform();
  const lines: string[] = [];
  let unreachable = 0;
  stop = startLocalCron({
    origin: p.origin,
    rootKey: "plk_root",
    print: (l: string) => lines.push(l),
    onUnreachable: () => unreachable++,
    ...extra,
  });
  return { p, lines, unreachable: () => unreachable };
}

describe("the local cron when nothing answers any more", () => {
  it("says the Worker is gone and that its queue's events are owed, once, when a tick finds nothing listening", async () => {
    // A workerd that died under a running wrangler dev (kill -9) left npm start printing only
    // "tick failed (fetch failed)": a Ctrl-C then counted as a clean stop, so the next start
    // neither said that the local queue's events were lost nor replayed them.
    const { p, lines, unreachable } = await cronOfDyingWorker();
    await until(() => unreachable() > 0);
    expect(unreachable()).toBe(1);
    const said = lines.join("\n");
    expect(said).toContain(`nothing answers at ${p.origin}`);
    expect(said).toContain("the events its local queue held are lost");
    expect(said).toContain("npm start again");
  });

  it("says nothing while npm start itself is restarting wrangler dev, but still owes the queue's events", async () => {
    // Saving .dev.vars (WEBHOOK_POLICY, in the webhooks drill) restarts wrangler dev; a tick in
    // that gap printed "Stop npm start (Ctrl-C) and run npm start again", while npm start was
    // already starting it again and replayed the queue's events by itself once it answered.
    const { lines, unreachable } = await cronOfDyingWorker({ restarting: () => true });
    await until(() => unreachable() > 0);
    expect(unreachable()).toBe(1);
    expect(lines.join("\n")).not.toContain("nothing answers");
  });
});

describe("what the local cron prints of a tick", () => {
  it("a line per run, but none for a minute job's success that reports no work", async () => {
    const fired = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000).toISOString();
    const ran = (job: string, cron: string, outcome: "ok" | "failed", result: Record<string, unknown> | null) => ({
      module: "m",
      job,
      cron,
      next_due: null,
      last_run: { fire_time: fired, trigger: "cron", outcome, duration_ms: 3, attempts: [{}], error: null, result },
    });
    const p = await platform({
      [JOBS]: [
        { status: 200, body: { items: [{ ...job(fired), cron: "* * * * *" }] } },
        {
          status: 200,
          body: {
            items: [
              ran("quiet", "* * * * *", "ok", null),
              ran("idle", "* * * * *", "ok", { resent: 0, more: false }),
              ran("busy", "* * * * *", "ok", { resent: 2, more: false }),
              ran("broken", "* * * * *", "failed", null),
              ran("hourly", "15 * * * *", "ok", null),
            ],
          },
        },
      ],
      "/cdn-cgi/handler/scheduled": [{ status: 200, body: {} }],
    });
    server = p.server;
    const lines: string[] = [];
    stop = startLocalCron({ origin: p.origin, rootKey: "plk_root", print: (l: string) => lines.push(l) });
    await until(() => lines.length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(lines.map((l) => /ran m\/(\w+): (\w+)/.exec(l)?.slice(1).join(" "))).toEqual([
      "busy ok",
      "broken failed",
      "hourly ok",
    ]);
  });
  it("a catch-up run too (a fire time missed while nothing ticked), with the time it fell due; not a run seen before", async () => {
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const run = (fire: number, started: number) => ({
      fire_time: iso(fire),
      trigger: "cron",
      outcome: "ok",
      duration_ms: 5,
      attempts: [{}],
      error: null,
      started_at: iso(started),
    });
    const hourly = (last_run: unknown) => ({
      module: "m",
      job: "hourly",
      cron: "0 * * * *",
      next_due: iso(at),
      last_run,
    });
    const daily = (last_run: unknown) => ({ module: "m", job: "daily", cron: "0 3 * * *", next_due: null, last_run });
    const seenBefore = run(at - 86_400_000, at - 86_400_000);
    const p = await platform({
      [JOBS]: [
        { status: 200, body: { items: [hourly(run(at - 7_200_000, at - 7_200_000)), daily(seenBefore)] } },
        { status: 200, body: { items: [hourly(run(at - 3_600_000, at + 20)), daily(seenBefore)] } },
      ],
      "/cdn-cgi/handler/scheduled": [{ status: 200, body: {} }],
    });
    server = p.server;
    const lines: string[] = [];
    stop = startLocalCron({ origin: p.origin, rootKey: "plk_root", print: (l: string) => lines.push(l) });
    await until(() => lines.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    const due = iso(at - 3_600_000).slice(11, 16);
    expect(lines).toEqual([
      `plinth: ${iso(at).slice(11, 16)} UTC ran m/hourly (catching up the run due at ${due} UTC): ok in 5 ms`,
    ]);
  });
});
