// An invitation hands out its roles on the word of its sender, so acceptance asks the authority
// rule again against what the sender holds then, and what the roles grant then: a sender whose
// own role lost a permission, or an invitation whose role gained one the sender lacks, must not
// let anyone join with more than the sender could grant at that moment (docs/identity.md,
// Invitations). The role-revoked case is in invitations.test.ts.
import { describe, expect, it } from "vitest";
import { accept, inviteAs, type Platform, type Tenant } from "./inviter-helpers";
import { platformAt } from "./two-factor-helpers";

const putRole = (p: Platform, t: Tenant, name: string, permissions: string[]) =>
  p.call(`/api/v1/admin/roles/${name}`, { method: "PUT", token: t.adminKey, body: { permissions } });

/** A user holding a custom role `inviter` with `permissions`, and a role `helper` granting `helps`. */
async function setUp(p: Platform, prefix: string, permissions: string[], helps: string[]) {
  const t = await p.tenant(prefix);
  for (const [name, perms] of [
    ["inviter", permissions],
    ["helper", helps],
  ] as const) {
    const role = await p.call("/api/v1/admin/roles", { token: t.adminKey, body: { name, permissions: perms } });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
  }
  const sender = await p.user(t.slug, `${prefix}@example.com`);
  const grant = await p.call(`/api/v1/admin/users/${sender.id}/roles/inviter`, { method: "PUT", token: t.adminKey });
  expect(grant.status).toBe(204);
  return { t, sender };
}

describe("accepting an invitation asks its sender's authority as it is now", () => {
  it("refuses it once the sender's own role no longer grants a permission the invitation hands out", async () => {
    const p = platformAt("2032-04-01T00:00:00.000Z");
    const perms = ["identity.invitation.write", "identity.user.read"];
    const { t, sender } = await setUp(p, "inviter-narrowed", perms, ["identity.user.read"]);
    const sent = await inviteAs(p, t, sender.token, "narrowed.guest@example.com", ["helper"]);
    const narrowed = await putRole(p, t, "inviter", ["identity.invitation.write"]);
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });

  it("refuses it once the invited role grants a permission its sender does not hold", async () => {
    const p = platformAt("2032-04-02T00:00:00.000Z");
    const perms = ["identity.invitation.write", "identity.user.read"];
    const { t, sender } = await setUp(p, "inviter-widened", perms, ["identity.user.read"]);
    const sent = await inviteAs(p, t, sender.token, "widened.guest@example.com", ["helper"]);
    const widened = await putRole(p, t, "helper", ["identity.user.read", "admin.roles.write"]);
    expect(widened.status, JSON.stringify(widened.body)).toBe(200);
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });

  it("accepts it while the sender still holds what it hands out (the control)", async () => {
    const p = platformAt("2032-04-03T00:00:00.000Z");
    const perms = ["identity.invitation.write", "identity.user.read"];
    const { t, sender } = await setUp(p, "inviter-same", perms, ["identity.user.read"]);
    const sent = await inviteAs(p, t, sender.token, "same.guest@example.com", ["helper"]);
    // An unrelated change to the sender's role keeps what the invitation needs.
    const changed = await putRole(p, t, "inviter", [...perms, "admin.roles.read"]);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const res = await accept(p, t, sent.token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it("refuses an invitation into owner once its sender is no longer an owner", async () => {
    const p = platformAt("2032-04-04T00:00:00.000Z");
    const t = await p.tenant("inviter-unowned");
    // Another owner, so the sender's can be taken back (the last owner's cannot).
    const keeper = await p.user(t.slug, "keeper@example.com");
    const kept = await p.call(`/api/v1/admin/users/${keeper.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    expect(kept.status).toBe(204);
    const sender = await p.user(t.slug, "unowned@example.com");
    const own = await p.call(`/api/v1/admin/users/${sender.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    expect(own.status).toBe(204);
    const sent = await inviteAs(p, t, sender.token, "unowned.guest@example.com", ["owner"]);
    // Still an admin (every permission): only the owner rule stands between it and the owner role.
    const admin = await p.call(`/api/v1/admin/users/${sender.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(admin.status).toBe(204);
    const unown = await p.call(`/api/v1/admin/users/${sender.id}/roles/owner`, { method: "DELETE", token: t.adminKey });
    expect(unown.status, JSON.stringify(unown.body)).toBe(204);
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });
});
