// Two tenants for the isolation walk (tenant-isolation.test.ts), built alike: each holds one of
// every resource an operation's path can name, and the walk aims one tenant's credentials at the
// other's. Every name a tenant's resources carry holds its own marker, so any body showing one of
// its values elsewhere is a leak, found by a plain substring search.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Secret, TOTP } from "otpauth";
import { expect, vi } from "vitest";
import { systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { eventually, uploaded } from "../files/helpers";
import { call, login, newTenant, PASSWORD, register } from "../identity/helpers";
import { seededByModules } from "./isolation-modules";

type Json = Record<string, unknown>;

/** One tenant as the walk holds it. */
export interface Twin {
  id: string;
  slug: string;
  /** Its first admin key: every permission. */
  adminKey: string;
  /** An owner's access and refresh tokens (an end user holding every permission). */
  ownerToken: string;
  ownerRefresh: string;
  ownerEmail: string;
  memberEmail: string;
  /** The member has two-factor on: the recovery codes its next sign-ins spend. */
  recoveryCodes: string[];
  /**
   * A path value naming this tenant's resource, by the path segment before the parameter
   * (`/users/{id}` → `users`): what an operation's path parameters are filled with.
   */
  ids: Record<string, string>;
  /** A signed download URL of its file (path and query). */
  signedUrl: string;
  /** Every value of this tenant that must never show in another tenant's answers. */
  markers: string[];
  /**
   * Values shown once, to whoever made them, that no later answer may show to anyone of the
   * tenant either: its keys, the owner's refresh token, webhook and SSO secrets, two-factor
   * secret and recovery codes.
   */
  secrets: string[];
}

async function created(path: string, token: string, body: Json): Promise<Json> {
  const res = await call(path, { token, body });
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

/** A dead letter of the tenant's, as the events dead-letter queue's consumer stores one after the retries. */
async function deadLetter(tenantId: string, adminKey: string): Promise<string> {
  const poison = {
    id: `evt-iso-${tenantId}`,
    type: "blog.post.updated",
    tenant_id: tenantId,
    stream: "x",
    version: 1,
    data: {},
  };
  const batch = createMessageBatch("plinth-events-dlq", [
    { id: `msg-iso-${tenantId}`, timestamp: new Date(), attempts: 6, body: poison },
  ]);
  const ctx = createExecutionContext();
  // The consumer logs each dead letter it stores as a warning: expected here, so kept off the output.
  const quiet = vi.spyOn(console, "warn").mockImplementation(() => {});
  try {
    await createQueueHandler({ modules: [], needs: KERNEL_NEEDS, clock: systemClock })(batch, env, ctx);
    await getQueueResult(batch, ctx);
  } finally {
    quiet.mockRestore();
  }
  const listed = await call("/api/v1/admin/dead-letters", { token: adminKey });
  const id = (listed.body.items as { id: string }[] | undefined)?.[0]?.id;
  expect(id, JSON.stringify(listed.body)).toBeTypeOf("string");
  return String(id);
}

/**
 * Signs the member in: with two-factor on, its challenge answered with one of `recoveryCodes`
 * (spent), as a TOTP code may be refused a second time within its 30 s.
 */
async function signInMember(slug: string, email: string, recoveryCodes: string[]): Promise<void> {
  const res = await call("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  if (res.body.two_factor_required !== true) return;
  const done = await call("/api/v1/auth/two-factor", {
    tenant: slug,
    body: { challenge: res.body.challenge, recovery_code: recoveryCodes.shift() },
  });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
}

/** The member's two-factor turned on (a user of A's with it on, for B to try to reset); its recovery codes. */
async function twoFactorOn(slug: string, email: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const { access_token } = await login(slug, email);
  const begun = await call("/api/v1/me/two-factor", { token: access_token, method: "POST" });
  expect(begun.status, JSON.stringify(begun.body)).toBe(201);
  const secret = String(begun.body.secret);
  const code = new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate();
  const confirmed = await call("/api/v1/me/two-factor/confirm", { token: access_token, body: { code } });
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return { secret, recoveryCodes: confirmed.body.recovery_codes as string[] };
}

/**
 * A new session of the member (`sessions`) and a new one of the owner besides the one its token
 * belongs to (`me/sessions`): sessions the walk's requests may revoke.
 */
async function newSessions(twin: Omit<Twin, "ids" | "signedUrl" | "markers" | "secrets">, memberId: string) {
  await signInMember(twin.slug, twin.memberEmail, twin.recoveryCodes);
  const ofMember = await call(`/api/v1/admin/users/${memberId}/sessions`, { token: twin.adminKey });
  const session = (ofMember.body.items as { id: string }[])[0]?.id;
  await login(twin.slug, twin.ownerEmail);
  const mine = await call("/api/v1/me/sessions", { token: twin.ownerToken });
  const mySession = (mine.body.items as { id: string; current: boolean }[]).find((s) => !s.current)?.id;
  expect([session, mySession]).not.toContain(undefined);
  return { sessions: String(session), "me/sessions": String(mySession) };
}

/** New sessions for `twin` to revoke, in place of those a walk revoked (newSessions). */
export async function renewSessions(twin: Twin): Promise<void> {
  Object.assign(twin.ids, await newSessions(twin, twin.ids.users ?? ""));
}

/** A fresh tenant holding one of each resource, every name of it carrying `label`'s own marker. */
export async function twinTenant(label: string): Promise<Twin> {
  const t = await newTenant(`iso${label}`);
  const mark = `${label}${t.slug.replace(/[^a-z0-9]/g, "")}`;
  const ownerEmail = `owner-${mark}@example.com`;
  const owner = await register(t.slug, ownerEmail, `Owner ${mark}`);
  const grant = await call(`/api/v1/admin/users/${String(owner.id)}/roles/owner`, { method: "PUT", token: t.adminKey });
  expect(grant.status, JSON.stringify(grant.body)).toBe(204);
  const ownerPair = await login(t.slug, ownerEmail);
  // A second owner, so that the first may delete its own account (the last owner may not).
  const coOwnerEmail = `co-owner-${mark}@example.com`;
  const coOwner = await register(t.slug, coOwnerEmail, `Co-owner ${mark}`);
  const coGrant = await call(`/api/v1/admin/users/${String(coOwner.id)}/roles/owner`, {
    method: "PUT",
    token: t.adminKey,
  });
  expect(coGrant.status, JSON.stringify(coGrant.body)).toBe(204);
  const memberEmail = `member-${mark}@example.com`;
  const member = await register(t.slug, memberEmail, `Member ${mark}`);
  const twoFactor = await twoFactorOn(t.slug, memberEmail);
  // Every code, before the member's sign-ins below spend some.
  const recoveryCodes = [...twoFactor.recoveryCodes];
  const holder = {
    id: t.id,
    slug: t.slug,
    adminKey: t.adminKey,
    ownerToken: ownerPair.access_token,
    ownerRefresh: ownerPair.refresh_token,
    ownerEmail,
    memberEmail,
    recoveryCodes: twoFactor.recoveryCodes,
  };
  const sessions = await newSessions(holder, String(member.id));
  const post = await created("/api/v1/blog/posts", t.adminKey, { title: `Post ${mark}`, content: `Body ${mark}` });
  const hook = await created("/api/v1/admin/webhooks", t.adminKey, {
    url: `https://hooks.example.com/${mark}`,
    events: ["blog.post.*"],
    description: `Hook ${mark}`,
  });
  const invitationEmail = `invitee-${mark}@example.com`;
  const invitation = await created("/api/v1/admin/invitations", t.adminKey, {
    email: invitationEmail,
    roles: ["member"],
  });
  const key = await created("/api/v1/admin/api-keys", t.adminKey, { name: `Key ${mark}`, scopes: ["blog.post.read"] });
  // A role name only this tenant has: the other's request for it must not find its own.
  const role = `role-${mark}`;
  await created("/api/v1/admin/roles", t.adminKey, { name: role, permissions: ["blog.post.read"], description: mark });
  const ssoSecret = `sso-secret-${mark}`;
  const sso = await call("/api/v1/admin/sso", {
    method: "PUT",
    token: t.adminKey,
    body: {
      issuer: "https://login.example.com",
      client_id: `client-${mark}`,
      client_secret: ssoSecret,
      allowed_domains: ["example.com"],
    },
  });
  expect(sso.status, JSON.stringify(sso.body)).toBe(200);
  const file = await uploaded(t.adminKey, new TextEncoder().encode(`File ${mark}`), `file-${mark}.txt`);
  const url = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} });
  expect(url.status, JSON.stringify(url.body)).toBe(200);
  const signed = new URL(String(url.body.url));
  const test = await call(`/api/v1/admin/webhooks/${String(hook.id)}/test`, { method: "POST", token: t.adminKey });
  expect(test.status, JSON.stringify(test.body)).toBe(202);
  const deliveries = await eventually(
    () => call(`/api/v1/admin/webhooks/${String(hook.id)}/deliveries`, { token: t.adminKey }),
    (res) => (res.body.items as unknown[] | undefined)?.length === 1,
  );
  const delivery = (deliveries.body.items as { id: string }[])[0]?.id;
  const ids: Record<string, string> = {
    users: String(member.id),
    ...sessions,
    posts: String(post.id),
    webhooks: String(hook.id),
    deliveries: String(delivery),
    invitations: String(invitation.id),
    "api-keys": String(key.id),
    roles: role,
    files: file.id,
    "dead-letters": await deadLetter(t.id, t.adminKey),
    tenants: t.id,
    // Product modules' resources (test/gateway/isolation/<name>.ts, written by plinth new module).
    ...(await seededByModules({ adminKey: t.adminKey, mark })),
  };
  const markers = [
    mark,
    t.id,
    t.slug,
    ownerEmail,
    memberEmail,
    invitationEmail,
    coOwnerEmail,
    ssoSecret,
    String(owner.id),
    String(coOwner.id),
    String(key.prefix),
    String(hook.secret),
    twoFactor.secret,
    ...twoFactor.recoveryCodes,
    ...Object.values(ids),
  ];
  const secrets = [
    t.adminKey,
    ownerPair.refresh_token,
    String(key.key),
    ssoSecret,
    String(hook.secret),
    twoFactor.secret,
    ...recoveryCodes,
  ];
  return { ...holder, ids, signedUrl: `${signed.pathname}${signed.search}`, markers, secrets };
}
