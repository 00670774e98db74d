// A first request that outran its lease: a repeat took the key over and is running. The first
// one's failure then abandons the key; that must end its own lease only, not the repeat's, or a
// third request with the key runs while the repeat still does (the key's one execution, twice).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { idempotencyOf } from "../../src/kernel/idempotency/contract";

const T = Date.now() + 86_400_000;
const LEASE = 1_000;
const fingerprint = "b".repeat(64);

describe("IdempotencyStore after a repeat took over an expired lease", () => {
  it("ignores the first request's late abandon, and a third request meets the repeat's lease", async () => {
    const client = idempotencyOf(env, `takeover:${crypto.randomUUID()}`);
    const begin = (now: number) => client.begin({ key: "k", fingerprint, now, leaseMs: LEASE, waitMs: 0 });
    expect(await begin(T)).toEqual({ outcome: "proceed" });
    // The first request is still running past its lease: the repeat takes the key over.
    expect(await begin(T + 2 * LEASE)).toEqual({ outcome: "proceed" });

    // The first request fails and gives back the lease it held (its begin's now + leaseMs).
    await client.abandon({ key: "k", lease: T + LEASE });
    expect(await begin(T + 2 * LEASE + 100)).toEqual({ outcome: "in_progress" });

    // The repeat's own abandon ends its lease: the key may run again at once.
    await client.abandon({ key: "k", lease: T + 3 * LEASE });
    expect(await begin(T + 2 * LEASE + 200)).toEqual({ outcome: "proceed" });
  });
});
