// An IdempotencyStore is one per principal that ever sent an Idempotency-Key: objects without
// end (every user, every API key), which no tenant erasure reaches. Once its last record
// expired, it keeps no storage at all, not even its schema, as a RateLimiter forgets its key;
// a later request starts it again.
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

/** The tables the object holds (none: no storage). */
const tablesOf = (stub: DurableObjectStub<IdempotencyStore>) =>
  runInDurableObject(stub, (_: IdempotencyStore, state) =>
    state.storage.sql
      .exec<{ name: string }>("select name from sqlite_master where type = 'table'")
      .toArray()
      .map((t) => t.name),
  );

describe("an IdempotencyStore whose records all expired", () => {
  afterEach(() => idempotencyClock.release());

  it("holds no storage, and takes a new request as a first one", async () => {
    const scope = `forget:${crypto.randomUUID()}`;
    const stub = env.IDEMPOTENCY.getByName(scope);
    const client = idempotencyOf(env, scope);
    expect(await client.begin({ key: "k", fingerprint, now: T, leaseMs: 30_000, waitMs: 0 })).toEqual({
      outcome: "proceed",
    });
    await client.complete({ key: "k", response, now: T, ttlMs: TTL });

    idempotencyClock.set(new Date(T + TTL));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await tablesOf(stub)).toEqual([]);
    expect(await runDurableObjectAlarm(stub)).toBe(false);

    // In the same object lifetime: the schema comes back with the first record.
    const later = T + TTL + 1;
    expect(await client.begin({ key: "k", fingerprint, now: later, leaseMs: 30_000, waitMs: 0 })).toEqual({
      outcome: "proceed",
    });
    expect(await client.begin({ key: "k", fingerprint, now: later, leaseMs: 30_000, waitMs: 0 })).toEqual({
      outcome: "in_progress",
    });
    await client.complete({ key: "k", response, now: later, ttlMs: TTL });
    expect(await client.begin({ key: "k", fingerprint, now: later, leaseMs: 30_000, waitMs: 0 })).toMatchObject({
      outcome: "replay",
    });
  });

  it("answers a complete or an abandon of a key it no longer holds without recreating storage", async () => {
    const scope = `forget:${crypto.randomUUID()}`;
    const stub = env.IDEMPOTENCY.getByName(scope);
    const client = idempotencyOf(env, scope);
    await client.abandon({ key: "gone", lease: T });
    await client.complete({ key: "gone", response, now: T, ttlMs: TTL });
    expect(await tablesOf(stub)).toEqual([]);
    // No alarm either: one set for a record that is not there would only wake an empty object.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});
