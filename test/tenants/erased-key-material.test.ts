// A tenant's key material, once its erasure shredded it (the directory emptied, seed and
// all), stays destroyed: a late seal for the tenant (a request or event still on its way)
// must fail as for destroyed keys, not create a new seed in the erased directory.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyMaterialDestroyed } from "../../src/kernel/crypto/envelope";
import { tenantEnvelopeOf } from "../../src/kernel/crypto/tenant-envelope";
import { directory } from "../../src/modules/identity/directory/contract";
import { identityErasure } from "../../src/modules/identity/erasure";
import { sealingRuntime, testRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";

const FIELD = "test.erased_keys";

describe("key material after the tenant's erasure", () => {
  it("is not created again by a late seal", async () => {
    const t = await newTenant("ekm");
    const envelope = tenantEnvelopeOf(sealingRuntime(FIELD));
    const sealed = await envelope.encrypt(t.id, FIELD, "personal data");

    await identityErasure.shred?.(t.id, testRuntime());

    await expect(envelope.encrypt(t.id, FIELD, "late")).rejects.toBeInstanceOf(KeyMaterialDestroyed);
    expect(await directory(env, t.id).keySeed({ create: true, now: "2026-06-01T00:00:00.000Z" })).toBeNull();
    await expect(envelope.decryptText(t.id, FIELD, sealed)).rejects.toThrow();
  });
});
