import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import {
  LOOK_STUCK_MS,
  migrationWatch,
  PENDING_RECHECK_MS,
  SETTLED_RECHECK_MS,
} from "../../src/kernel/health/pending-migrations";
import { createRouter } from "../../src/kernel/openapi/router";
import { system } from "../../src/modules/system";
import { expectProblem, testApp } from "../helpers";

/**
 * env.DB, except that `d1_migrations` lists `applied()` (a database a deploy has not
 * migrated yet, or a migration generated under `npm start`), and each read of it is counted.
 */
function migratedTo(applied: () => readonly string[], reads: { n: number }): D1Database {
  return new Proxy(env.DB, {
    get(target, key) {
      if (key !== "prepare") return Reflect.get(target, key, target);
      return (query: string) => {
        if (!query.includes("d1_migrations")) return target.prepare(query);
        reads.n++;
        return { all: async () => ({ results: applied().map((name) => ({ name })) }) };
      };
    },
  });
}

const PENDING = "9999_orders_amount.sql";

describe("API reads while the database lacks a migration this build ships", () => {
  it("answer 503 unavailable with Retry-After (a column SQLite cannot find would read as its own name)", async () => {
    const reads = { n: 0 };
    const { fetch } = testApp([system()], { DB: migratedTo(() => MIGRATIONS, reads) }, [...MIGRATIONS, PENDING]);
    const res = await fetch("/api/v1/system/info");
    const problem = await expectProblem(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(problem.detail).not.toContain(PENDING);
    // Liveness and readiness stay outside: /readyz names the migration to the operator.
    expect((await fetch("/healthz")).status).toBe(200);
    const ready = (await (await fetch("/readyz")).json()) as { checks: { migrations: { error: string } } };
    expect(ready.checks.migrations.error).toBe(`pending: ${PENDING}`);
  });

  it("serve again once it is applied, checking at most every 5 s meanwhile", async () => {
    const clock = manualClock("2026-01-01T00:00:00Z");
    let applied: readonly string[] = MIGRATIONS;
    const reads = { n: 0 };
    const { fetch } = testApp([system()], { DB: migratedTo(() => applied, reads) }, [...MIGRATIONS, PENDING], clock);
    expect((await fetch("/api/v1/system/info")).status).toBe(503);
    applied = [...MIGRATIONS, PENDING];
    clock.advance(4_000);
    expect((await fetch("/api/v1/system/info")).status).toBe(503);
    expect(reads.n).toBe(1);
    clock.advance(1_000);
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
    expect(reads.n).toBe(2);
  });

  it("cost one look at d1_migrations per isolate once everything is applied", async () => {
    const reads = { n: 0 };
    const { fetch } = testApp([system()], { DB: migratedTo(() => MIGRATIONS, reads) });
    for (let i = 0; i < 3; i++) expect((await fetch("/api/v1/system/info")).status).toBe(200);
    expect(reads.n).toBe(1);
  });

  it("leave writes alone: a command commits to its writer, whose projection the queue retries", async () => {
    const reads = { n: 0 };
    const { fetch } = testApp([system()], { DB: migratedTo(() => MIGRATIONS, reads) }, [...MIGRATIONS, PENDING]);
    expect((await fetch("/api/v1/system/info", { method: "POST" })).status).toBe(405);
    expect(reads.n).toBe(0);
  });
});

describe("a settled isolate", () => {
  it("looks again in the background a minute after its last look, and refuses reads once it finds one pending", async () => {
    // A D1 restore to before an ADD COLUMN keeps the table: no read fails, SQLite answers the
    // column's name as text, and an isolate that had found nothing pending never looked again.
    vi.spyOn(console, "error").mockImplementation(() => {});
    const clock = manualClock("2026-01-01T00:00:00Z");
    let applied: readonly string[] = [...MIGRATIONS, PENDING];
    const reads = { n: 0 };
    const { fetch } = testApp([system()], { DB: migratedTo(() => applied, reads) }, [...MIGRATIONS, PENDING], clock);
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
    applied = MIGRATIONS;
    clock.advance(59_000);
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
    expect(reads.n).toBe(1);
    clock.advance(1_000);
    // This read is served (the look runs after it); the next ones are refused.
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
    for (let i = 0; i < 50 && reads.n < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 10));
    expect(reads.n).toBe(2);
    expect((await fetch("/api/v1/system/info")).status).toBe(503);
    vi.restoreAllMocks();
  });
});

/** A module whose one read meets a table no migration makes: a missing table, as after a restore or a drop. */
const ghost = () => ({
  name: "ghost",
  version: "1.0.0",
  routes: createRouter().get("/raw", async (c) => c.json(await c.env.DB.prepare("select id from ghost_items").all())),
});

describe("a read that meets a missing table looks at the migrations again", () => {
  afterEach(() => vi.restoreAllMocks());

  it("and, finding one pending again (D1 restored to before it), refuses every read, not only that table's", async () => {
    // An isolate whose watch had settled never looked again: after a Time Travel restore to
    // before a migration, reads of the tables it kept answered rows without its columns.
    vi.spyOn(console, "error").mockImplementation(() => {});
    const clock = manualClock("2026-01-01T00:00:00Z");
    let applied: readonly string[] = [...MIGRATIONS, PENDING];
    const reads = { n: 0 };
    const { fetch } = testApp(
      [system(), ghost()],
      { DB: migratedTo(() => applied, reads) },
      [...MIGRATIONS, PENDING],
      clock,
    );
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
    applied = MIGRATIONS;
    clock.advance(60_000);
    const res = await fetch("/api/v1/ghost/raw");
    const body = await expectProblem(res, 503, "unavailable");
    expect(body.detail).toBe("the service's database is being brought up to date; try again shortly");
    expect((await fetch("/api/v1/system/info")).status).toBe(503);
    expect(reads.n).toBe(2);
    applied = [...MIGRATIONS, PENDING];
    clock.advance(5_000);
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
  });

  it("at most once every 5 s per isolate, however many reads fail on it at once", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const clock = manualClock("2026-01-01T00:00:00Z");
    const reads = { n: 0 };
    const { fetch } = testApp([system(), ghost()], { DB: migratedTo(() => MIGRATIONS, reads) }, MIGRATIONS, clock);
    expect((await fetch("/api/v1/system/info")).status).toBe(200);
    expect(reads.n).toBe(1);
    clock.advance(60_000);
    const flood = await Promise.all(Array.from({ length: 5 }, () => fetch("/api/v1/ghost/raw")));
    for (const res of flood) expect(res.status).toBe(503);
    expect(reads.n).toBe(2);
    clock.advance(4_000);
    for (let i = 0; i < 3; i++) {
      const body = await expectProblem(await fetch("/api/v1/ghost/raw"), 503, "unavailable");
      expect(body.detail).toContain("an operator must restore it");
    }
    expect(reads.n).toBe(2);
    clock.advance(1_000);
    expect((await fetch("/api/v1/ghost/raw")).status).toBe(503);
    expect(reads.n).toBe(3);
  });
});

describe("the isolate's migration watch, when a look never settles", () => {
  // The watch is the isolate's, shared by every request; a look runs in the context of the request
  // that made it. If that context is torn down, its read of d1_migrations never settles, and a call
  // that waited on it held its request for ever (and every later GET, which would have joined it).
  const shipped = [...MIGRATIONS, PENDING];
  /** An env whose d1_migrations reads follow `answers` in turn: a list to answer, or "never". */
  function envAnswering(answers: (readonly string[] | "never")[]) {
    const reads = { n: 0 };
    const DB = {
      prepare: () => ({
        all: () => {
          const answer = answers[reads.n++] ?? shipped;
          if (answer === "never") return new Promise<never>(() => {});
          return Promise.resolve({ results: answer.map((name) => ({ name })) });
        },
      }),
    };
    return { env: { DB } as unknown as Env, reads };
  }
  /** `p`'s answer, or "waited" when it has none within 200 ms. */
  const within = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<"waited">((r) => setTimeout(() => r("waited"), 200))]);

  it("a look while another is under way answers from the last look, without waiting on it", async () => {
    const { env, reads } = envAnswering([MIGRATIONS, "never"]);
    const watch = migrationWatch(shipped);
    expect(await watch.look(env, 0)).toEqual({ pending: [PENDING], fresh: true });
    void watch.look(env, PENDING_RECHECK_MS); // its read never settles
    expect(await within(watch.look(env, PENDING_RECHECK_MS + 1))).toEqual({ pending: [PENDING], fresh: false });
    expect(await within(watch.recheck(env, PENDING_RECHECK_MS + 1))).toEqual({ pending: [PENDING], fresh: false });
    expect(reads.n).toBe(2);
  });

  it("a first look while another is under way looks on its own", async () => {
    const { env, reads } = envAnswering(["never", MIGRATIONS]);
    const watch = migrationWatch(shipped);
    void watch.look(env, 0);
    expect(await within(watch.look(env, 1))).toEqual({ pending: [PENDING], fresh: true });
    expect(reads.n).toBe(2);
  });

  it("a look under way for LOOK_STUCK_MS is taken for lost: the next recheck looks again, and a settled watch is due again", async () => {
    const { env, reads } = envAnswering([shipped, "never", MIGRATIONS, "never", MIGRATIONS]);
    const watch = migrationWatch(shipped);
    expect(await watch.look(env, 0)).toEqual({ pending: [], fresh: true });
    // The background recheck a minute on; its read never settles.
    const first = SETTLED_RECHECK_MS;
    void watch.recheck(env, first);
    expect(await within(watch.recheck(env, first + LOOK_STUCK_MS - 1))).toEqual({ pending: [], fresh: false });
    expect(await within(watch.recheck(env, first + LOOK_STUCK_MS))).toEqual({ pending: [PENDING], fresh: true });
    expect(watch.settled()).toBe(false);
    expect(reads.n).toBe(3);

    // Settled again, the next background recheck is lost too: it is tried again a minute after it began.
    const again = migrationWatch(shipped);
    const other = envAnswering([shipped, "never", MIGRATIONS]);
    await again.look(other.env, 0);
    void again.recheck(other.env, first);
    expect(again.due(first + SETTLED_RECHECK_MS - 1)).toBe(false);
    expect(again.due(first + SETTLED_RECHECK_MS)).toBe(true);
    expect(await within(again.recheck(other.env, first + SETTLED_RECHECK_MS))).toEqual({
      pending: [PENDING],
      fresh: true,
    });
  });
});
