// An upload still streaming when its tenant's erasure emptied the FileStore: its commit is
// answered as expired (the route then deletes the R2 object it stored), and a new
// reservation is refused, so the erased store holds nothing of the tenant again.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/kernel/crypto";
import { fileStore } from "../../src/modules/files/contract";
import { newTenant } from "../identity/helpers";

const ctx = { now: new Date().toISOString(), actor: { kind: "system" as const, id: "test" }, requestId: null };

describe("the FileStore after its tenant's erasure", () => {
  it("answers a late commit as expired and refuses a new reservation", async () => {
    const t = await newTenant("efs");
    const store = fileStore(env, t.id);
    const reserve = (id: string) =>
      store.reserve({
        tenant_id: t.id,
        id,
        bytes: 10,
        name: "x",
        content_type: "text/plain",
        created_by: "k",
        now: ctx.now,
      });
    const id = newId();
    expect(await reserve(id)).toEqual({ ok: true });

    await store.eraseAll({ tenant_id: t.id });

    expect(await store.commit({ ctx, tenant_id: t.id, id, size: 10, sha256: "a".repeat(64) })).toEqual({
      ok: false,
      error: "expired",
    });
    await expect(reserve(newId())).rejects.toThrow(/erased/);
    expect(await store.usage({})).toMatchObject({ used_bytes: 0, files: 0 });
  });
});
