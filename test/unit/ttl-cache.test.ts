import { describe, expect, it } from "vitest";
import { TtlCache } from "../../src/kernel/cache/ttl-cache";

function clocked(ttlMs: number, maxEntries = 100) {
  let now = 1_000_000;
  const cache = new TtlCache<string, number>({ ttlMs, maxEntries, now: () => now });
  const advance = (ms: number) => {
    now += ms;
  };
  return { cache, advance };
}

describe("TtlCache: the bound on every per-isolate cache's staleness", () => {
  it("serves an entry for less than ttlMs and never after", () => {
    const { cache, advance } = clocked(10_000);
    cache.set("k", 1);
    advance(9_999);
    expect(cache.get("k")).toBe(1);
    advance(1);
    expect(cache.get("k")).toBeUndefined();
  });

  it("caps a shorter per-entry ttl, and never extends past the cache's own", () => {
    const { cache, advance } = clocked(10_000);
    cache.set("short", 1, 2_000);
    cache.set("long", 2, 60_000);
    advance(2_000);
    expect(cache.get("short")).toBeUndefined();
    expect(cache.get("long")).toBe(2);
    advance(8_000);
    expect(cache.get("long")).toBeUndefined();
  });

  it("evicts the oldest entry when full, and a re-set entry counts as new", () => {
    const { cache } = clocked(10_000, 3);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    cache.set("a", 10); // refreshed: now the newest
    cache.set("d", 4); // evicts b, the oldest
    expect([cache.get("a"), cache.get("b"), cache.get("c"), cache.get("d")]).toEqual([10, undefined, 3, 4]);
  });

  it("forgets at once what is deleted, by key or by value", () => {
    const { cache } = clocked(10_000);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    cache.delete("a");
    cache.deleteWhere((v) => v === 2);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, undefined, 3]);
    cache.clear();
    expect(cache.get("c")).toBeUndefined();
  });
});
