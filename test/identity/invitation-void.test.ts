// A pending invitation that acceptance would refuse must not read as one that works: a key's
// invitation ends with the key (its expires_at is capped at the key's), and the list and the
// Location name a pending invitation's void_reason when its sender no longer exists or no longer
// holds what its roles grant (docs/identity.md, "Invitations").
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { audit } from "../../src/modules/audit";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { call, callerOf, login, mailTo, newTenant, newUser, tokenIn } from "./helpers";

const DAY = 24 * 3_600_000;
/** The Worker `ms` from now, for what an invitation reads as once time passed. */
const later = (ms: number) =>
  callerOf(
    testApp(
      [system(), tenants(), identity(), audit()],
      {},
      undefined,
      manualClock(new Date(systemClock.now().getTime() + ms)),
    ).fetch,
  );

type Tenant = Awaited<ReturnType<typeof newTenant>>;

/** A key of the tenant's admin that may invite viewers, expiring `inMs` from now. */
async function inviterKey(t: Tenant, inMs: number): Promise<{ key: string; expiresAt: string }> {
  const expiresAt = new Date(systemClock.now().getTime() + inMs).toISOString();
  const res = await call("/api/v1/admin/api-keys", {
    token: t.adminKey,
    body: {
      name: "inviter",
      scopes: ["identity.invitation.write", "identity.invitation.read", "*.read"],
      expires_at: expiresAt,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { key: String(res.body.key), expiresAt: String(res.body.expires_at) };
}

/** Invites `email` as a viewer with `token`: the invitation as created, and its mailed token and text. */
async function invite(t: Tenant, token: string, email: string) {
  const res = await call("/api/v1/admin/invitations", { token, body: { email, roles: ["viewer"] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const mail = await mailTo(t.slug, email, "You are invited");
  return { invitation: res.body, token: tokenIn(mail), text: mail.body };
}

describe("an invitation sent by an API key", () => {
  it("expires when the key does, not 7 days on, and its mail says until when", async () => {
    const t = await newTenant("inv-key-cap");
    const key = await inviterKey(t, DAY);
    const { invitation, text } = await invite(t, key.key, "capped@example.com");
    expect(invitation.expires_at).toBe(key.expiresAt);
    expect(text).toContain(`before ${key.expiresAt.slice(0, 10)} ${key.expiresAt.slice(11, 16)} UTC`);
    // Past the key's expiry it reads as expired, when it ended, not as pending for six more days.
    const after = await later(2 * DAY)(`/api/v1/admin/invitations/${invitation.id}`, { token: t.adminKey });
    expect(after.body).toMatchObject({ status: "expired", status_changed_at: key.expiresAt });
    expect(after.body.void_reason).toBeUndefined();
  });

  it("a key that outlives the 7 days leaves them as they were", async () => {
    const t = await newTenant("inv-key-long");
    const key = await inviterKey(t, 30 * DAY);
    const { invitation, text } = await invite(t, key.key, "uncapped@example.com");
    expect(Date.parse(String(invitation.expires_at)) - Date.parse(String(invitation.created_at))).toBe(7 * DAY);
    expect(text).toContain("within 7 days");
  });

  it("one from before the cap, whose key expired while it waited, is listed pending with void_reason sender_gone", async () => {
    const t = await newTenant("inv-key-gone");
    const key = await inviterKey(t, DAY);
    const { invitation, token } = await invite(t, key.key, "orphan@example.com");
    // As an invitation made before the cap was stored: 7 days, whatever its key.
    const week = new Date(Date.parse(String(invitation.created_at)) + 7 * DAY).toISOString();
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("update invitations set expires_at = ? where id = ?", week, String(invitation.id));
    });
    const at = later(2 * DAY);
    const listed = await at("/api/v1/admin/invitations", { token: t.adminKey });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: invitation.id, status: "pending", void_reason: "sender_gone" }),
    ]);
    const accepted = await at("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: "a long enough passphrase", name: "Orphan" },
    });
    expect(accepted.status).toBe(400);
  });
});

describe("an invitation whose sender lost the authority it hands out", () => {
  it("is listed pending with void_reason sender_lacks_authority, refused at acceptance, and good again once the role is back", async () => {
    const t = await newTenant("inv-lost");
    const role = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "inviter", permissions: ["identity.invitation.write", "identity.invitation.read", "*.read"] },
    });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const sender = await newUser(t.slug);
    const bind = (method: string) =>
      call(`/api/v1/admin/users/${sender.id}/roles/inviter`, { method, token: t.adminKey });
    expect((await bind("PUT")).status).toBeLessThan(300);
    const fresh = await login(t.slug, sender.email);
    const { invitation, token } = await invite(t, fresh.access_token, "lost@example.com");
    expect(invitation.void_reason).toBeUndefined();

    expect((await bind("DELETE")).status).toBeLessThan(300);
    const listed = await call("/api/v1/admin/invitations", { token: t.adminKey });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: invitation.id, status: "pending", void_reason: "sender_lacks_authority" }),
    ]);
    const one = await call(`/api/v1/admin/invitations/${invitation.id}`, { token: t.adminKey });
    expect(one.body).toMatchObject({ status: "pending", void_reason: "sender_lacks_authority" });
    const refused = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: "a long enough passphrase", name: "Lost" },
    });
    expect(refused.status).toBe(400);

    expect((await bind("PUT")).status).toBeLessThan(300);
    const again = await call(`/api/v1/admin/invitations/${invitation.id}`, { token: t.adminKey });
    expect(again.body).toMatchObject({ status: "pending" });
    expect(again.body.void_reason).toBeUndefined();
  });
});
