// Tenants whose erasure fails on every run (a module's erase that throws for them, a store
// that refuses them) must not hold the erasure job's places: a run takes five tenants, and
// five such tenants deleted first would otherwise be those five every minute, leaving every
// tenant deleted after them unerased, its deadline missed, with nothing in the log about it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules as registered } from "../../src/modules";
import { ERASURE_GRACE_MS, ERASURES_PER_RUN } from "../../src/modules/tenants/erasure-job";
import { erasureStore } from "../../src/modules/tenants/erasure-store";
import { call, newTenant, rootKey } from "../identity/helpers";
import { eraseUntil } from "./helpers";

// Each run of the job needs a later fire time than the last (its lease refuses an older one).
let minutes = 0;
const nextMinute = () => manualClock(new Date(Date.now() + ERASURE_GRACE_MS + ++minutes * 60_000));

const deleteTenant = async (id: string) => {
  const res = await call(`/api/v1/platform/tenants/${id}`, { method: "DELETE", token: rootKey() });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
};

const registryRow = (id: string) =>
  call(`/api/v1/platform/tenants/${id}`, { token: rootKey() }).then((res) => ({ status: res.status, body: res.body }));

describe("tenant erasure, with erasures that keep failing", () => {
  it("still erases a tenant deleted after five whose erasure fails on every run, and keeps retrying those five", async () => {
    const stuck: string[] = [];
    for (let i = 0; i < ERASURES_PER_RUN; i++) {
      const t = await newTenant("stuck");
      await deleteTenant(t.id);
      stuck.push(t.id);
    }
    const next = await newTenant("after-stuck");
    await deleteTenant(next.id);

    const tries = new Map<string, number>();
    const broken: ModuleDef = {
      name: "broken",
      version: "1.0.0",
      erasure: {
        erase: async (tenantId) => {
          if (!stuck.includes(tenantId)) return;
          tries.set(tenantId, (tries.get(tenantId) ?? 0) + 1);
          throw new Error("storage unavailable");
        },
      },
    };
    const modules = [...registered, broken];
    const erased = async (id: string) => (await erasureStore(env.DB).erasedAt(id)) !== null;

    // Reached within ⌈due / 5⌉ runs (eraseUntil's bound), the five failing every time it takes them.
    const runs = await eraseUntil(() => erased(next.id), nextMinute, modules);
    expect((await registryRow(next.id)).status).toBe(404);
    // The runs that tried the five failed, and say so (jobs list, plinth_job_runs_total).
    expect(runs.some((r) => r.ran && r.run.outcome === "failed")).toBe(true);

    // The five stay deleting, past their keys (their data unreadable), the failing step not recorded.
    for (const id of stuck) {
      const row = await registryRow(id);
      expect({ id, status: row.status, body: row.body }).toMatchObject({
        id,
        status: 200,
        body: { status: "deleting", erasure_done: ["keys"] },
      });
      expect({ id, tried: (tries.get(id) ?? 0) > 0 }).toEqual({ id, tried: true });
    }

    // And are retried, each again within the same bound (fewer tenants are due now).
    const before = new Map(tries);
    await eraseUntil(
      async () => stuck.every((id) => (tries.get(id) ?? 0) > (before.get(id) ?? 0)),
      nextMinute,
      modules,
    );
  });
});
