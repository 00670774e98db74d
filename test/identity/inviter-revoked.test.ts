// An invitation sent by an API key is void once that key is revoked (acceptance asks whether its
// sender still exists). Revoking the key, directly or with the key that minted it, revokes the
// invitations it left pending in the same transaction, so the admin's list does not go on showing
// as `pending` an invitation nobody can accept.
import { describe, expect, it } from "vitest";
import { accept, inviteAs, keyInviteIntoEmptyRole, statusOf } from "./inviter-helpers";
import { platformAt } from "./two-factor-helpers";

describe("revoking an API key revokes the invitations it sent", () => {
  it("its own and those of the keys revoked with it: listed revoked, audited as inviter_revoked, the tokens refused", async () => {
    const p = platformAt("2032-03-01T00:00:00.000Z");
    const t = await p.tenant("inviter-key-revoked");
    const scopes = ["identity.invitation.write", "admin.keys.write", "*.read"];
    const parent = await p.call("/api/v1/admin/api-keys", { token: t.adminKey, body: { name: "parent", scopes } });
    expect(parent.status, JSON.stringify(parent.body)).toBe(201);
    // Minted by the parent: revoked with it in the cascade.
    const child = await p.call("/api/v1/admin/api-keys", {
      token: String(parent.body.key),
      body: { name: "child", scopes: ["identity.invitation.write", "*.read"] },
    });
    expect(child.status, JSON.stringify(child.body)).toBe(201);
    const byParent = await inviteAs(p, t, String(parent.body.key), "by.parent@example.com", ["viewer"]);
    const byChild = await inviteAs(p, t, String(child.body.key), "by.child@example.com", ["viewer"]);
    // Another sender's invitation is not the revoked key's to end.
    const other = await inviteAs(p, t, t.adminKey, "by.admin@example.com", ["viewer"]);

    const del = await p.call(`/api/v1/admin/api-keys/${parent.body.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);

    const pending = await p.call("/api/v1/admin/invitations", { token: t.adminKey });
    expect((pending.body.items as { id: string }[]).map((i) => i.id)).toEqual([other.id]);
    expect(await statusOf(p, t, byParent.id)).toBe("revoked");
    expect(await statusOf(p, t, byChild.id)).toBe("revoked");
    const revoked = await p.auditOf(t.adminKey, "identity.invitation.revoked", 2);
    const why = (id: string) => revoked.find((e) => e.target === `${t.id}/invitation/${id}`)?.detail;
    expect(why(byParent.id)).toEqual({ reason: "inviter_revoked", key_id: parent.body.id });
    expect(why(byChild.id)).toEqual({ reason: "inviter_revoked", key_id: child.body.id });
    for (const token of [byParent.token, byChild.token]) {
      const res = await accept(p, t, token);
      expect([res.status, res.body.code]).toEqual([400, "invalid_token"]);
    }
    expect((await accept(p, t, other.token)).status).toBe(200);
  });

  it("one into a role granting no permission is listed revoked, not pending", async () => {
    const p = platformAt("2032-03-02T00:00:00.000Z");
    const t = await p.tenant("inviter-key-revoked-empty");
    const { keyId, sent } = await keyInviteIntoEmptyRole(p, t, "empty.key.guest@example.com");
    const del = await p.call(`/api/v1/admin/api-keys/${keyId}`, { method: "DELETE", token: t.adminKey });
    expect(del.status).toBe(204);
    expect(await statusOf(p, t, sent.id)).toBe("revoked");
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });
});
