// The tenant envelope outside a request (`tenantEnvelopeOf(runtime)`: a job, a subscriber, an
// object) seals and opens only for tenants the registry holds. A made-up or stale id (one typo
// in a module's job) once reached the seed source, which opened the id's TenantDirectory:
// its constructor migrates the whole directory schema, and `encrypt` wrote a seed there,
// storage for a tenant that does not exist, which no tenant erasure would ever remove.
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyMaterialDestroyed, UnregisteredTenant } from "../../src/kernel/crypto/envelope";
import { tenantEnvelopeOf } from "../../src/kernel/crypto/tenant-envelope";
import { directory } from "../../src/modules/identity/directory/contract";
import { sealingRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";
import { platform } from "../jobs/tenant-fixtures";

const FIELD = "test.unknown_tenant";

/** Whether the TenantDirectory named `tenantId` holds storage. */
async function hasDirectory(tenantId: string): Promise<boolean> {
  const id = env.TENANT_DIRECTORY.idFromName(tenantId);
  return (await listDurableObjectIds(env.TENANT_DIRECTORY)).some((o) => o.equals(id));
}

describe("the tenant envelope for a tenant the registry does not hold live", () => {
  it("refuses an id no tenant has, sealing or opening, and opens no directory for it", async () => {
    const envelope = tenantEnvelopeOf(sealingRuntime(FIELD));
    const real = await newTenant("eut");
    const sealed = await envelope.encrypt(real.id, FIELD, "personal data");
    const made = [`no-such-${crypto.randomUUID()}`, `no-such-${crypto.randomUUID()}`];
    await expect(envelope.encrypt(made[0] ?? "", FIELD, "x")).rejects.toBeInstanceOf(UnregisteredTenant);
    await expect(envelope.decrypt(made[1] ?? "", FIELD, sealed)).rejects.toBeInstanceOf(UnregisteredTenant);
    for (const id of made) expect(await hasDirectory(id), id).toBe(false);
    expect(await envelope.decryptText(real.id, FIELD, sealed)).toBe("personal data");
  });

  it("answers a deleted tenant's values as destroyed and makes it no seed; a suspended one's still open", async () => {
    const envelope = tenantEnvelopeOf(sealingRuntime(FIELD));
    const deleted = await newTenant("eud");
    const suspended = await newTenant("eus");
    expect((await platform(deleted.id, "DELETE")).status).toBe(202);
    expect((await platform(`${suspended.id}/suspend`, "POST")).status).toBe(200);

    await expect(envelope.encrypt(deleted.id, FIELD, "late")).rejects.toBeInstanceOf(KeyMaterialDestroyed);
    expect(await directory(env, deleted.id).keySeed({ create: false, now: "2026-06-01T00:00:00.000Z" })).toBeNull();
    const sealed = await envelope.encrypt(suspended.id, FIELD, "kept");
    expect(await envelope.decryptText(suspended.id, FIELD, sealed)).toBe("kept");
  });
});
