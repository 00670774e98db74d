import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
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
