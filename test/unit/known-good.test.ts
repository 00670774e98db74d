// The known-good set of auth_failures (kernel/ratelimit/known-good.ts): what it keeps when strangers
// fill it. Anyone holding many valid credentials (API keys minted in a tenant of their own: no cap)
// gets each of them in, since a credential is remembered as it resolves, before any rate limit.
import { describe, expect, it } from "vitest";
import { knownGoodSet } from "../../src/kernel/ratelimit/known-good";

function clocked(maxEntries: number, ttlMs = 60_000) {
  let now = 1_000_000;
  const set = knownGoodSet({ ttlMs, maxEntries, now: () => now });
  return {
    set,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("known-good set (auth_failures)", () => {
  it("keeps a live key when strangers' keys fill it: they wait instead of pushing it out", () => {
    const { set, advance } = clocked(3);
    set.remember("k:office-script");
    advance(1_000);
    // The oldest went first: a flood of valid credentials pushed every neighbour out, whose requests
    // then waited behind their shared address's guesses, which docs/gateway.md says they do not.
    for (let i = 0; i < 10; i++) set.remember(`k:stranger-${i}`);
    expect(set.has("k:office-script")).toBe(true);
    expect(set.has("k:stranger-9")).toBe(false);
  });

  it("makes room from keys gone stale, and refreshes a key it holds", () => {
    const { set, advance } = clocked(2, 10_000);
    set.remember("k:a");
    advance(5_000);
    set.remember("k:b");
    advance(5_000);
    // k:a is stale now: its place is taken.
    set.remember("k:c");
    expect(set.has("k:c")).toBe(true);
    expect(set.has("k:a")).toBe(false);
    // A key held is refreshed even when full; forgetting makes room.
    set.remember("k:b");
    advance(9_000);
    expect(set.has("k:b")).toBe(true);
    set.forget("k:c");
    set.remember("k:d");
    expect(set.has("k:d")).toBe(true);
  });
});
