// Deleting an account revokes the pending invitations it sent, in the deletion's transaction
// (docs/identity.md, "What deleting an account removes"). Acceptance asks the sender's authority
// again, so such an invitation was void already when its roles granted anything; but the list
// still said `pending`, and one whose roles grant nothing passed that check (a deleted sender holds
// no permission, and nothing was asked of it), so anyone with the mailed token joined.
import { describe, expect, it } from "vitest";
import { accept, anAdmin, inviteAs, keyInviteIntoEmptyRole, statusOf } from "./inviter-helpers";
import { platformAt } from "./two-factor-helpers";

describe("deleting an account revokes the invitations it sent", () => {
  it("its own and its keys': listed revoked, audited with reason inviter_deleted, the tokens refused", async () => {
    const p = platformAt("2032-02-01T00:00:00.000Z");
    const t = await p.tenant("inviter-gone");
    const sender = await anAdmin(p, t, "sender@example.com");
    const key = await p.call("/api/v1/admin/api-keys", {
      token: sender.token,
      body: { name: "inviter", scopes: ["identity.invitation.write", "*.read"] },
    });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const byUser = await inviteAs(p, t, sender.token, "guest.one@example.com", ["viewer"]);
    const byKey = await inviteAs(p, t, String(key.body.key), "guest.two@example.com", ["viewer"]);
    // Another administrator's invitation is not the deleted person's to end.
    const other = await inviteAs(p, t, t.adminKey, "guest.three@example.com", ["viewer"]);

    const del = await p.call(`/api/v1/users/${sender.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);

    const pending = await p.call("/api/v1/admin/invitations", { token: t.adminKey });
    expect((pending.body.items as { id: string }[]).map((i) => i.id)).toEqual([other.id]);
    expect(await statusOf(p, t, byUser.id)).toBe("revoked");
    expect(await statusOf(p, t, byKey.id)).toBe("revoked");
    const revoked = await p.auditOf(t.adminKey, "identity.invitation.revoked", 2);
    const why = (id: string) => revoked.find((e) => e.target === `${t.id}/invitation/${id}`)?.detail;
    expect(why(byUser.id)).toEqual({ reason: "inviter_deleted", user_id: sender.id });
    expect(why(byKey.id)).toEqual({ reason: "inviter_deleted", user_id: sender.id });
    for (const token of [byUser.token, byKey.token]) {
      const res = await accept(p, t, token);
      expect([res.status, res.body.code]).toEqual([400, "invalid_token"]);
    }
    expect((await accept(p, t, other.token)).status).toBe(200);
  });

  it("one whose roles grant no permission, which its sender's authority alone did not void, is refused too", async () => {
    const p = platformAt("2032-02-02T00:00:00.000Z");
    const t = await p.tenant("inviter-gone-empty");
    const role = await p.call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "guest", permissions: [] } });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const sender = await anAdmin(p, t, "empty.sender@example.com");
    const sent = await inviteAs(p, t, sender.token, "empty.guest@example.com", ["guest"]);
    const del = await p.call(`/api/v1/users/${sender.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await statusOf(p, t, sent.id)).toBe("revoked");
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });

  it("one sent by a key revoked since, into a role granting no permission, is void at acceptance", async () => {
    // No account was deleted, so nothing revoked the invitation; its sender no longer exists all the
    // same, and an invitation asking nothing of its sender must not outlive it.
    const p = platformAt("2032-02-03T00:00:00.000Z");
    const t = await p.tenant("inviter-key-gone");
    const { keyId, sent } = await keyInviteIntoEmptyRole(p, t, "key.guest@example.com");
    const revoked = await p.call(`/api/v1/admin/api-keys/${keyId}`, { method: "DELETE", token: t.adminKey });
    expect(revoked.status).toBe(204);
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });
});
