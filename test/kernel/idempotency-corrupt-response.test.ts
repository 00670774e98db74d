// An IdempotencyStore record whose stored response is corrupt: the replay fails naming the
// record, and quotes none of the response (a tenant's data, replayed to the same caller only).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { IdempotencyStore } from "../../durable-objects/idempotency-store";
import { idempotencyOf } from "../../src/kernel/idempotency/contract";

const T = Date.now() + 86_400_000;
const fingerprint = "a".repeat(64);
const response = { status: 201, headers: {}, body: '{"note":"PRIVATE-note"}', secret: false };

describe("IdempotencyStore with a corrupt stored response", () => {
  it("refuses the replay with a message that names the record and quotes none of the response", async () => {
    const scope = `corrupt:${crypto.randomUUID()}`;
    const stub = env.IDEMPOTENCY.getByName(scope);
    const client = idempotencyOf(env, scope);
    await client.begin({ key: "k", fingerprint, now: T, leaseMs: 30_000, waitMs: 0 });
    await client.complete({ key: "k", response, now: T, ttlMs: 3_600_000 });
    const message = await runInDurableObject(stub, async (instance: IdempotencyStore, state) => {
      // Its first characters cut off, so the rest (the body's text) is what V8's message would quote.
      state.storage.sql.exec(
        "update records set response = substr(response, instr(response, 'PRIVATE')) where key = 'k'",
      );
      const error: unknown = await instance
        .begin({ key: "k", fingerprint, now: T + 1, leaseMs: 30_000, waitMs: 0 })
        .then(
          () => null,
          (e: unknown) => e,
        );
      return error instanceof Error ? error.message : `no Error: ${String(error)}`;
    });
    expect(message).not.toContain("PRIVATE");
    expect(message).toBe("idempotency record response is not valid JSON");
  });
});
