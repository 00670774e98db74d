// A tenant's key seed is created by the first seal that needs it, a step no job names and no
// request owns: its `identity.keys.created` entry is the system's, with no request id nor
// address hash, at the time the sealing caller read and handed the directory (systemOrigin).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { auditOf, newTenant } from "./helpers";

describe("the tenant's key seed", () => {
  it("is recorded as created by the system, at the caller's time, with no request", async () => {
    const t = await newTenant("kmo");
    const now = "2031-07-01T12:00:00.000Z";
    expect(await directory(env, t.id).keySeed({ create: true, now })).not.toBeNull();

    const [entry] = await auditOf(t.adminKey, "identity.keys.created");
    expect(entry).toMatchObject({
      at: now,
      actor: { kind: "system", id: null },
      request_id: null,
      ip_hash: null,
      target: `${t.id}/keys`,
    });
  });
});
