// Helpers of the tests on invitations whose sender is gone or changed (inviter-*.test.ts).
import { expect } from "vitest";
import { mailTo, PASSWORD, tokenIn } from "./helpers";
import type { platformAt } from "./two-factor-helpers";

export type Platform = ReturnType<typeof platformAt>;
export type Tenant = Awaited<ReturnType<Platform["tenant"]>>;

/** A user of `t` holding the built-in `admin` role, with an access token. */
export async function anAdmin(p: Platform, t: Tenant, email: string) {
  const user = await p.user(t.slug, email);
  const grant = await p.call(`/api/v1/admin/users/${user.id}/roles/admin`, { method: "PUT", token: t.adminKey });
  expect(grant.status).toBe(204);
  return user;
}

/** Invites `email` into `roles` with `token`; the invitation's id and the mailed token. */
export async function inviteAs(p: Platform, t: Tenant, token: string, email: string, roles: string[]) {
  const sent = await p.call("/api/v1/admin/invitations", { token, body: { email, roles } });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return { id: String(sent.body.id), token: tokenIn(await mailTo(t.slug, email, "You are invited")) };
}

/**
 * An invitation of `email` into a role granting nothing (`guest`), sent by a new key holding only
 * `identity.invitation.write`: what a revoked sender leaves that asks nothing of its sender.
 */
export async function keyInviteIntoEmptyRole(p: Platform, t: Tenant, email: string) {
  const role = await p.call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "guest", permissions: [] } });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  const key = await p.call("/api/v1/admin/api-keys", {
    token: t.adminKey,
    body: { name: "inviter", scopes: ["identity.invitation.write"] },
  });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return { keyId: String(key.body.id), sent: await inviteAs(p, t, String(key.body.key), email, ["guest"]) };
}

export const accept = (p: Platform, t: Tenant, token: string) =>
  p.call("/api/v1/auth/accept-invitation", { tenant: t.slug, body: { token, password: PASSWORD, name: "Guest" } });

export const statusOf = async (p: Platform, t: Tenant, id: string) =>
  (await p.call(`/api/v1/admin/invitations/${id}`, { token: t.adminKey })).body.status;
