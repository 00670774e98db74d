// An append that makes a checkpoint awaits the signing key and the signature; the tenant's
// erasure can run in that gap. The checkpoint it then stores would put the erased chain's head
// (seq, hash, tenant-bound signature) back into an object whose tombstone promises it holds
// nothing of the tenant again, and the erased log's verify would report it.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { auditInputs } from "./audit-inputs";

const input = auditInputs("erase-cp-race-ev");

afterEach(() => {
  vi.restoreAllMocks();
});

/** Holds every signature until `release()`: the gap the input gate leaves open while it awaits. */
function holdSignatures() {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const sign = crypto.subtle.sign.bind(crypto.subtle);
  const signing = vi.spyOn(crypto.subtle, "sign").mockImplementation(async (...args) => {
    await held;
    return sign(...args);
  });
  return { release, started: () => vi.waitFor(() => expect(signing).toHaveBeenCalled()) };
}

describe("AuditLog checkpoint racing the tenant's erasure", () => {
  it("stores no checkpoint once the erasure emptied the log while it was signing", async () => {
    const tenant = `erase-cp-race-${crypto.randomUUID()}`;
    const stub = env.AUDIT_LOG.getByName(tenant) as unknown as DurableObjectStub<AuditLog>;
    const after = await runInDurableObject(stub, async (instance: AuditLog, state) => {
      await instance.append({ events: [input(tenant)], checkpointEvery: 100 });
      const held = holdSignatures();
      const appending = instance.append({ events: [input(tenant)], checkpointEvery: 2 });
      await held.started();
      await instance.eraseAll({ tenant_id: tenant });
      held.release();
      const appended = await appending;
      const rows = state.storage.sql.exec<{ n: number }>("select count(*) as n from checkpoints").one().n;
      return { appended, rows, verified: await instance.verify() };
    });
    expect(after.appended.checkpoint).toBeNull();
    expect(after.rows).toBe(0);
    expect(after.verified).toMatchObject({ entries: 0, checkpoint: null });
  });

  it("closes an export with no signed head once the erasure ran while it stored its checkpoint", async () => {
    const tenant = `erase-export-race-${crypto.randomUUID()}`;
    const stub = env.AUDIT_LOG.getByName(tenant) as unknown as DurableObjectStub<AuditLog>;
    const exported = await runInDurableObject(stub, async (instance: AuditLog) => {
      await instance.append({ events: [input(tenant), input(tenant)], checkpointEvery: 100 });
      const held = holdSignatures();
      const exporting = instance.exportCheckpoint({ tenant_id: tenant });
      await held.started();
      await instance.eraseAll({ tenant_id: tenant });
      held.release();
      return exporting;
    });
    // Not seq 0 over the genesis hash: "empty" would hide that the tenant was erased.
    expect(exported).toBeNull();
  });
});
