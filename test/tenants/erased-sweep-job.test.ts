// The catch-all behind the erasure's tables step: rows written for a tenant after its erasure
// finished (a late queue batch in a deployment whose objects do not refuse it, a replay or an
// inline pass in flight, a sweep of the queue consumer that failed) are deleted by the hourly
// `tenants/sweep-erased` job, and only those: a live tenant's rows, and those of a tenant still
// being erased, stay.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import { sweepErased as consumerSweep } from "../../src/kernel/events/erased-sweep";
import { createLogger } from "../../src/kernel/log";
import { modules } from "../../src/modules";
import { postDecider } from "../../src/modules/blog/domain";
import { postProjection } from "../../src/modules/blog/projection";
import { ERASURE_GRACE_MS } from "../../src/modules/tenants/erasure-job";
import { type ErasedCursor, erasedFrom, erasureStore } from "../../src/modules/tenants/erasure-store";
import { tenantLookup } from "../../src/modules/tenants/lookup";
import { ERASED_SWEEP_DAYS, sweepErased } from "../../src/modules/tenants/sweep-job";
import { deliver, runJobNamed, testRuntime } from "../helpers";
import { auditOf, call, newTenant, rootKey } from "../identity/helpers";
import { eraseUntil } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const DAY = 86_400_000;
// Each run of a job needs a later fire time than its last (its lease refuses an older one).
let minutes = 0;
const later = (ms = 0) => manualClock(new Date(Date.now() + ERASURE_GRACE_MS + ms + ++minutes * 60_000));
const sweep = (ms = 0) => runJobNamed("tenants/sweep-erased", { clock: later(ms), log: createLogger("info") });

/** A tenant with one blog post (its row in blog_posts), and the post's events as its writer keeps them. */
async function withPost(prefix: string) {
  const t = await newTenant(prefix);
  const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Hi", content: "Body" } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const events = await aggregateOf(env, postDecider, t.id, String(created.body.id)).read(1, 100);
  expect(events.length).toBe(1);
  // Let the queue deliver it, so no delivery of this tenant is still on its way to D1.
  expect((await auditOf(t.adminKey, "blog.post.created")).length).toBe(1);
  return { ...t, events: events as Envelope[] };
}

const postRows = async (tenantId: string) =>
  (
    await env.DB.prepare("select count(*) as n from blog_posts where tenant_id = ?")
      .bind(tenantId)
      .first<{ n: number }>()
  )?.n;

/** Deletes the tenant and runs the erasure to its end: its tombstone is written. */
async function erase(tenantId: string): Promise<void> {
  const deleted = await call(`/api/v1/platform/tenants/${tenantId}`, { method: "DELETE", token: rootKey() });
  expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
  // Runs until its own erasure is done: other files' deleted tenants of the shared D1 may come first.
  await eraseUntil(async () => (await erasureStore(env.DB).erasedAt(tenantId)) !== null, later);
}

/** The warning lines `msg` logged while `run` ran. */
async function warnLines(msg: string, run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "log").mockImplementation(() => {});
  // Spied already (an earlier call): only what `run` logged counts.
  const from = spy.mock.calls.length;
  await run();
  return spy.mock.calls
    .slice(from)
    .map(([line]) => JSON.parse(String(line)) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe("the sweep of rows written for an erased tenant after its erasure", () => {
  it("deletes a row a projection wrote after the erasure finished, with a line naming the rows, and leaves a live tenant's", async () => {
    const gone = await withPost("sweep-late");
    const live = await withPost("sweep-live");
    await erase(gone.id);
    expect(await postRows(gone.id)).toBe(0);
    // A late write: the projection applies the post's event after the erasure (a queue batch that
    // passed the consumer's check while an isolate took the tenant for live, with no audit log to
    // refuse it; or a replay call in flight). Nothing after the tables step deletes it.
    await deliver(postProjection, gone.events);
    expect(await postRows(gone.id)).toBe(1);

    let result: Awaited<ReturnType<typeof sweep>> | undefined;
    const lines = await warnLines("rows of an erased tenant swept after its erasure", async () => {
      result = await sweep();
    });
    expect(result?.ran && result.run.outcome, JSON.stringify(result)).toBe("ok");
    expect(await postRows(gone.id)).toBe(0);
    expect(await postRows(live.id)).toBe(1);
    expect(lines).toEqual([{ ...lines[0], tenant_id: gone.id, rows: { blog_posts: 1 } }]);
    const summary = result?.ran ? result.run.result : null;
    expect(summary).toMatchObject({ swept: 1, rows: { blog_posts: 1 } });
    expect(Number(summary?.erased_tenants)).toBeGreaterThanOrEqual(1);

    // Again: nothing left, nothing deleted, no line.
    const again = await warnLines("rows of an erased tenant swept after its erasure", async () => {
      result = await sweep();
    });
    expect(again).toEqual([]);
    expect(result?.ran && result.run.result).toMatchObject({ swept: 0, rows: {} });
    expect(await postRows(live.id)).toBe(1);
  });

  it("does what a failed sweep of the queue consumer left, on its next run", async () => {
    const gone = await withPost("sweep-failed");
    await erase(gone.id);
    await deliver(postProjection, gone.events);
    // The consumer's sweep fails (the database, for a moment): it logs the tenant and moves on.
    const failing = {
      ...env,
      DB: new Proxy(env.DB, {
        get(target, name) {
          if (name === "prepare" || name === "batch") throw new Error("D1 unavailable");
          return Reflect.get(target, name);
        },
      }),
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await consumerSweep([gone.id], {
      registry: { ...tenantLookup, pastObjects: async () => true },
      modules,
      env: failing,
      log: createLogger("info"),
    });
    expect(errors.mock.calls.map(([l]) => JSON.parse(String(l)).msg)).toContain(
      "rows written for an erased tenant not swept",
    );
    expect(await postRows(gone.id)).toBe(1);

    const run = await sweep();
    expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
    expect(await postRows(gone.id)).toBe(0);
  });

  it("says nothing of a tenant whose rows a sweep of the queue consumer deleted after its probe", async () => {
    const gone = await withPost("sweep-raced");
    await erase(gone.id);
    await deliver(postProjection, gone.events);
    // The probe (D1's one batch) finds the row; the consumer's sweep deletes it right after.
    const racing = {
      ...env,
      DB: new Proxy(env.DB, {
        get(target, name) {
          if (name !== "batch") {
            const value = Reflect.get(target, name);
            return typeof value === "function" ? value.bind(target) : value;
          }
          return async (statements: D1PreparedStatement[]) => {
            const answer = await target.batch(statements);
            await target.prepare("delete from blog_posts where tenant_id = ?").bind(gone.id).run();
            return answer;
          };
        },
      }),
    };
    const clock = later();
    const runtime = {
      ...testRuntime(clock),
      modules,
      env: racing,
      log: createLogger("info"),
      scheduledTime: clock.now().getTime(),
      lastSuccess: null,
      attempt: 1,
    };
    let summary: unknown;
    const lines = await warnLines("rows of an erased tenant swept after its erasure", async () => {
      summary = await sweepErased.run(runtime);
    });
    expect(lines.filter((l) => l.tenant_id === gone.id)).toEqual([]);
    expect(summary).toMatchObject({ swept: 0, rows: {} });
    expect(await postRows(gone.id)).toBe(0);
  });

  it("leaves a tenant still being erased to its erasure, and one erased longer ago than the window", async () => {
    const deleting = await withPost("sweep-deleting");
    const deleted = await call(`/api/v1/platform/tenants/${deleting.id}`, { method: "DELETE", token: rootKey() });
    expect(deleted.status).toBe(202);
    // Its rows are the erasure's (the stream catalog is how its aggregates step finds the streams).
    const run = await sweep();
    expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
    expect(await postRows(deleting.id)).toBe(1);

    const old = await withPost("sweep-old");
    await erase(old.id);
    await deliver(postProjection, old.events);
    const outside = await sweep((ERASED_SWEEP_DAYS + 1) * DAY);
    expect(outside.ran && outside.run.outcome, JSON.stringify(outside)).toBe("ok");
    expect(await postRows(old.id)).toBe(1);
    // Cleaned up here, within the window, so no other test meets it.
    await sweep();
    expect(await postRows(old.id)).toBe(0);
  });
});

/**
 * Tombstones of tenants that never existed, `count` of them, named `${prefix}-<n>`: their times
 * `at(n)` are not in id order, and many are equal, so a page ends inside a run of equal times.
 */
async function tombstones(prefix: string, count: number, at: (n: number) => string): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, n) => `${prefix}-${String(n).padStart(5, "0")}`);
  const insert = env.DB.prepare("insert into erased_tenants (id, erased_at) values (?, ?)");
  for (let i = 0; i < ids.length; i += 200) {
    await env.DB.batch(ids.slice(i, i + 200).map((id, k) => insert.bind(id, at(i + k))));
  }
  return ids;
}

const dropTombstones = (prefix: string) =>
  env.DB.prepare("delete from erased_tenants where id like ?").bind(`${prefix}-%`).run();

describe("the sweep's walk of the tombstones", () => {
  it("reads each tombstone of the window once, in (erased_at, id) order, and none older", async () => {
    const base = Date.parse("2031-03-01T00:00:00.000Z");
    const time = (n: number) => new Date(base + ((n * 7) % 5) * 1000).toISOString();
    const ids = await tombstones("walk", 40, time);
    try {
      const since = time(1); // 2 s past base: the tombstones at 0 s and 1 s are before the window.
      const inWindow = ids.filter((_, n) => time(n) >= since);
      expect(inWindow.length).toBeGreaterThan(10);
      const store = erasureStore(env.DB);
      const seen: ErasedCursor[] = [];
      for (let after = erasedFrom(since); ; ) {
        const page = await store.erasedAfter(after, 3);
        seen.push(...page);
        const last = page.at(-1);
        if (page.length < 3 || last === undefined) break;
        after = last;
      }
      const ours = seen.filter((t) => t.id.startsWith("walk-"));
      const byTime = [...ours].sort((a, b) =>
        a.erasedAt === b.erasedAt ? (a.id < b.id ? -1 : 1) : a.erasedAt < b.erasedAt ? -1 : 1,
      );
      expect(ours).toEqual(byTime);
      expect(ours.map((t) => t.id).sort()).toEqual([...inWindow].sort());
    } finally {
      await dropTombstones("walk");
    }
  });

  it("reaches a tombstone past its first pages: a late row behind 1,100 others is swept", async () => {
    const gone = await withPost("sweep-paged");
    // Tombstones erased before it (now, within the window), so it sorts after them all.
    const now = new Date(Date.now()).toISOString();
    await tombstones("paged", 1100, () => now);
    try {
      await erase(gone.id);
      await deliver(postProjection, gone.events);
      expect(await postRows(gone.id)).toBe(1);
      const run = await sweep();
      expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
      expect(await postRows(gone.id)).toBe(0);
      expect(Number(run.ran ? run.run.result?.erased_tenants : 0)).toBeGreaterThanOrEqual(1101);
    } finally {
      await dropTombstones("paged");
    }
  });
});
