import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ProbeActor } from "./probe-actor";
import { rejection } from "./rejection";

let n = 0;

// The binding is kept in storage and memoised. A first message that bound its tenant and then
// threw rolled the stored binding back but kept the memo: later messages found the tenant bound
// and stored nothing, so the object, rebuilt after an eviction, was bound to no tenant while
// holding that tenant's data, and the first call naming another tenant would have bound it.
describe("an actor whose first binding message fails", () => {
  afterEach(() => vi.restoreAllMocks());

  it("stores the binding with the next message that binds, as an object rebuilt after eviction reads it", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const stub = env.PROBE_ACTOR.getByName(`tenant-binding-${++n}`);
    expect((await rejection(stub.bind({ tenant_id: "t_bound", fail: true }))).message).toMatch(/probe bind failed/);
    expect(await stub.bind({ tenant_id: "t_bound" })).toEqual({ tenant_id: "t_bound" });
    const stored = await runInDurableObject(stub, (_: ProbeActor, state) => state.storage.kv.get("tenant_id") ?? null);
    expect(stored).toBe("t_bound");
  });
});
