// An IdempotencyStore's records are deleted by its alarm once they expired, on the object's
// clock: the test Worker builds it over idempotencyClock, which this test moves.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { IdempotencyStore } from "../../durable-objects/idempotency-store";
import { idempotencyOf } from "../../src/kernel/idempotency/contract";
import { idempotencyClock } from "../object-clocks";

// A day ahead of the runtime's clock: an alarm due in the past would fire by itself at once.
const T = Date.now() + 86_400_000;
const TTL = 3_600_000;
const fingerprint = "a".repeat(64);
const response = { status: 201, headers: {}, body: "{}", secret: false };

describe("IdempotencyStore expiry", () => {
  afterEach(() => idempotencyClock.release());

  it("keeps a record until its TTL has passed on the object's clock, then its alarm deletes it", async () => {
    const scope = `expiry:${crypto.randomUUID()}`;
    const stub = env.IDEMPOTENCY.getByName(scope);
    const client = idempotencyOf(env, scope);
    expect(await client.begin({ key: "k", fingerprint, now: T, leaseMs: 30_000, waitMs: 0 })).toEqual({
      outcome: "proceed",
    });
    await client.complete({ key: "k", response, now: T, ttlMs: TTL });
    const keys = () =>
      runInDurableObject(stub, (_: IdempotencyStore, state) => {
        const sql = state.storage.sql;
        // With its last record gone the object deletes its table too (idempotency-forget.test.ts).
        if (sql.exec("select 1 from sqlite_master where name = 'records'").toArray().length === 0) return [];
        return sql
          .exec<{ key: string }>("select key from records")
          .toArray()
          .map((r) => r.key);
      });

    // The lease's alarm, at T + 30 s: the record is done and lives an hour, so it stays.
    idempotencyClock.set(new Date(T + 30_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keys()).toEqual(["k"]);

    // A millisecond before the TTL ends it is still kept; at its end the alarm deletes it.
    idempotencyClock.set(new Date(T + TTL - 1));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keys()).toEqual(["k"]);
    idempotencyClock.set(new Date(T + TTL));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keys()).toEqual([]);
  });
});
