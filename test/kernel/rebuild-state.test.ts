// The kernel's walk of a rebuild from state, over a source of numbered records per tenant:
// where each call stops and goes on, for budgets that end inside a tenant, at its very
// end, or between tenants, and what it asks of the source.
import { describe, expect, it } from "vitest";
import { rebuildFromState, type TenantWalk } from "../../src/kernel/events/rebuild-state";
import type { RebuildSource } from "../../src/kernel/modules/types";
import { testRuntime } from "../helpers";

/** Tenants with `records[t]` records at positions 1…n, pages of at most `page`; logs each read. */
function fakes(records: Record<string, number>, page = 3) {
  const reads: string[] = [];
  const source: RebuildSource = {
    async page(_runtime, tenantId, after, limit) {
      const want = Math.min(limit, page);
      const read = Math.max(0, Math.min(want, (records[tenantId] ?? 0) - after));
      reads.push(`${tenantId}:${after}+${read}`);
      return { writes: [], read, last: after + read, done: read < want };
    },
  };
  const ids = Object.keys(records).sort();
  const tenants: TenantWalk = {
    ids: async (after, limit) => ids.filter((id) => after === undefined || id > after).slice(0, limit),
    exists: async (id) => ids.includes(id),
  };
  return { source, tenants, reads };
}

const call = (
  f: ReturnType<typeof fakes>,
  request: { after?: string; limit?: number; max?: number; tenant?: string },
) =>
  rebuildFromState(f.source, f.tenants, testRuntime(), {
    consumer: "test:copy",
    tenantId: request.tenant,
    after: request.after,
    limit: request.limit ?? 50,
    maxRecords: request.max ?? 5000,
  });

/** Follows `next` to the end: each call's [tenants, records, next]. */
async function walk(f: ReturnType<typeof fakes>, request: { limit?: number; max?: number; tenant?: string }) {
  const calls: [number, number, string | null][] = [];
  let after: string | undefined;
  do {
    const p = await call(f, { ...request, after });
    calls.push([p.tenants, p.records, p.next]);
    after = p.next ?? undefined;
  } while (after && calls.length < 50);
  return calls;
}

describe("rebuilding from an object's state", () => {
  it("reads every tenant in id order, a source page at a time, and is done in one call within the budget", async () => {
    const f = fakes({ a: 7, b: 0, c: 3 });
    expect(await walk(f, {})).toEqual([[3, 10, null]]);
    // c's page of 3 is full, so one more read finds its end; b has none.
    expect(f.reads).toEqual(["a:0+3", "a:3+3", "a:6+1", "b:0+0", "c:0+3", "c:3+0"]);
  });

  it("stops inside a tenant when the budget runs out there, and the next call goes on from that position", async () => {
    const f = fakes({ a: 7, c: 3 });
    expect(await walk(f, { max: 4 })).toEqual([
      [0, 4, "4@a"],
      [1, 4, "1@c"],
      [1, 2, null],
    ]);
    expect(f.reads).toEqual(["a:0+3", "a:3+1", "a:4+3", "a:7+0", "c:0+1", "c:1+2"]);
  });

  it("hands over at a tenant's end when the budget runs out exactly there", async () => {
    const f = fakes({ a: 2, b: 2, c: 2 }, 10);
    // A page that reads all it was asked for is not known to be the last: the next call finds the end.
    expect(await walk(f, { max: 2 })).toEqual([
      [0, 2, "2@a"],
      [1, 2, "2@b"],
      [1, 2, "2@c"],
      [1, 0, null],
    ]);
  });

  it("reads a page of tenants per call, naming the last it finished", async () => {
    const f = fakes({ a: 1, b: 1, c: 1 });
    expect(await walk(f, { limit: 2 })).toEqual([
      [2, 2, "b"],
      [1, 1, null],
    ]);
    // A cursor inside a tenant starts with its rest, then the page's other tenants.
    expect(await call(f, { after: "0@b", limit: 2 })).toMatchObject({ tenants: 2, records: 2, next: "c" });
  });

  it("keeps to the one tenant asked for", async () => {
    const f = fakes({ a: 5, b: 5 });
    expect(await walk(f, { tenant: "b", max: 3 })).toEqual([
      [0, 3, "3@b"],
      [1, 2, null],
    ]);
    expect(f.reads.every((r) => r.startsWith("b:"))).toBe(true);
    expect(await call(f, { tenant: "b", after: "b" })).toMatchObject({ tenants: 0, records: 0, next: null });
  });

  it("ends a tenant whose source reads nothing without saying done, rather than asking forever", async () => {
    const reads: number[] = [];
    const stuck: RebuildSource = {
      async page(_runtime, _tenant, after) {
        reads.push(after);
        return { writes: [], read: 0, last: after, done: false };
      },
    };
    const f = fakes({ a: 1 });
    const p = await rebuildFromState(stuck, f.tenants, testRuntime(), { consumer: "x:y", limit: 5, maxRecords: 10 });
    expect(p).toEqual({ tenants: 1, records: 0, written: 0, next: null });
    expect(reads).toEqual([0]);
  });

  it("refuses cursors it did not answer, and a walk of every tenant without a registry", async () => {
    const f = fakes({ a: 1 });
    for (const after of ["a/post/1", "x@a", "3@zz", "zz"]) {
      await expect(call(f, { after }), after).rejects.toMatchObject({
        code: "validation_failed",
        errors: [{ path: "body.after" }],
      });
    }
    await expect(
      rebuildFromState(f.source, undefined, testRuntime(), { consumer: "x:y", limit: 5, maxRecords: 10 }),
    ).rejects.toMatchObject({ code: "validation_failed", errors: [{ path: "body.tenant_id" }] });
  });
});
