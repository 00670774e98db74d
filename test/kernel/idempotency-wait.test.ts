// A repeat that finds its key's first request still running waits for it in the IdempotencyStore,
// on the sleeper the object is built over: the test Worker's (test/object-clocks.ts) is one a test
// hands a manualTime, so when the wait ends is tested by moving time rather than waiting it out.
// Time is moved inside the object (runInDurableObject): a sleep begun there is a promise of its
// I/O context, which workerd lets no other context (the test's) resolve.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { idempotencyOf } from "../../src/kernel/idempotency/contract";
import { manualTime } from "../../src/kernel/resilience";
import { idempotencySleeper } from "../object-clocks";

const T = Date.parse("2030-01-01T08:00:00Z");
const fingerprint = "a".repeat(64);
const LEASE = 30_000;
const WAIT = 20_000;

/** A store whose key "k" has a first request running, and a repeat of it waiting in the object. */
async function repeatWaiting() {
  const time = manualTime(new Date(T));
  idempotencySleeper.use(time.sleeper);
  const scope = `wait:${crypto.randomUUID()}`;
  const client = idempotencyOf(env, scope);
  const stub = env.IDEMPOTENCY.getByName(scope);
  const advance = (ms: number) => runInDurableObject(stub, () => time.advance(ms));
  expect(await client.begin({ key: "k", fingerprint, now: T, leaseMs: LEASE, waitMs: 0 })).toEqual({
    outcome: "proceed",
  });
  const repeat = client.begin({ key: "k", fingerprint, now: T, leaseMs: LEASE, waitMs: WAIT });
  // The repeat is asleep in the object, on the test's time.
  await vi.waitFor(() => expect(time.pending()).toBe(1));
  return { time, advance, client, repeat };
}

describe("IdempotencyStore: a repeat waiting for its first request", () => {
  afterEach(() => idempotencySleeper.release());

  it("waits its whole wait on the object's time, then answers in_progress while the lease runs", async () => {
    const { time, advance, repeat } = await repeatWaiting();
    await advance(WAIT - 1);
    expect(time.pending()).toBe(1);
    await advance(1);
    expect(await repeat).toEqual({ outcome: "in_progress" });
  });

  it("is woken by the first request's end: replays its response and leaves no wait behind", async () => {
    const { time, client, repeat } = await repeatWaiting();
    const response = { status: 201, headers: { "content-type": "application/json" }, body: '{"id":1}', secret: false };
    await client.complete({ key: "k", response, now: T + 1_000, ttlMs: 3_600_000 });
    expect(await repeat).toEqual({ outcome: "replay", response });
    expect(time.pending()).toBe(0);
  });

  it("is woken by the first request giving up: takes the key over", async () => {
    const { time, client, repeat } = await repeatWaiting();
    // The lease its begin took: now + leaseMs.
    await client.abandon({ key: "k", lease: T + LEASE });
    expect(await repeat).toEqual({ outcome: "proceed" });
    expect(time.pending()).toBe(0);
  });
});
