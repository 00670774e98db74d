// How batches are shaped before they reach D1 and the writers: split into runs, grouped by key.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunked, groupBy } from "../../src/kernel/db/params";

describe("groupBy", () => {
  it("keeps each group in the items' order and the groups in first-seen order", () => {
    const events = [
      { tenant: "b", n: 1 },
      { tenant: "a", n: 2 },
      { tenant: "b", n: 3 },
      { tenant: "c", n: 4 },
      { tenant: "a", n: 5 },
    ];
    const groups = groupBy(events, (e) => e.tenant);
    expect([...groups.keys()]).toEqual(["b", "a", "c"]);
    expect([...groups.values()].map((g) => g.map((e) => e.n))).toEqual([[1, 3], [2, 5], [4]]);
    expect(groups.size).toBe(3);
    expect(groupBy([], (e: string) => e).size).toBe(0);
  });

  it("holds every item once, in the group of its own key, in order (any items)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.constantFrom("x", "y", "z", ""), id: fc.nat() })), (items) => {
        const groups = groupBy(items, (i) => i.key);
        for (const [key, group] of groups) {
          expect(group.length).toBeGreaterThan(0);
          expect(group).toEqual(items.filter((i) => i.key === key));
        }
        expect([...groups.values()].reduce((n, g) => n + g.length, 0)).toBe(items.length);
        expect([...groups.keys()]).toEqual([...new Set(items.map((i) => i.key))]);
      }),
    );
  });

  it("groups a single key's many items, all of them in order (a tenant's whole replay page)", () => {
    const many = Array.from({ length: 50_000 }, (_, i) => ({ tenant: "t", i }));
    const group = groupBy(many, (e) => e.tenant).get("t");
    expect(group).toHaveLength(50_000);
    expect(group?.[49_999]?.i).toBe(49_999);
  });
});

describe("chunked", () => {
  it("splits into runs of at most `size`, in order, the last one shorter", () => {
    expect(chunked([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunked([], 3)).toEqual([]);
  });
});
