// Two tenants for the isolation walk (tenant-isolation.test.ts), built alike: each holds one of
// every resource an operation's path can name, and the walk aims one tenant's credentials at the
// other's. Every name a tenant's resources carry holds its own marker, so any body showing one of
// its values elsewhere is a leak, found by a plain substring search.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { eventually, uploaded } from "../files/helpers";
import { call, login, newTenant, register } from "../identity/helpers";

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
  /**
   * A path value naming this tenant's resource, by the path segment before the parameter
   * (`/users/{id}` → `users`): what an operation's path parameters are filled with.
   */
  ids: Record<string, string>;
  /** A signed download URL of its file (path and query). */
  signedUrl: string;
  /** Every value of this tenant that must never show in another tenant's answers. */
  markers: string[];
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
 * A new session of the member (`sessions`) and a new one of the owner besides the one its token
 * belongs to (`me/sessions`): sessions the walk's requests may revoke.
 */
async function newSessions(
  slug: string,
  adminKey: string,
  ownerEmail: string,
  ownerToken: string,
  memberEmail: string,
  memberId: string,
): Promise<Record<string, string>> {
  const memberPair = await login(slug, memberEmail);
  const ofMember = await call(`/api/v1/admin/users/${memberId}/sessions`, { token: adminKey });
  const session = (ofMember.body.items as { id: string }[])[0]?.id;
  const ownerPair = await login(slug, ownerEmail);
  const mine = await call("/api/v1/me/sessions", { token: ownerToken });
  const mySession = (mine.body.items as { id: string; current: boolean }[]).find((s) => !s.current)?.id;
  expect([session, mySession, memberPair.access_token, ownerPair.access_token]).not.toContain(undefined);
  return { sessions: String(session), "me/sessions": String(mySession) };
}

/** New sessions for `twin` to revoke, in place of those a walk revoked (newSessions). */
export async function renewSessions(twin: Twin): Promise<void> {
  Object.assign(
    twin.ids,
    await newSessions(
      twin.slug,
      twin.adminKey,
      twin.ownerEmail,
      twin.ownerToken,
      twin.memberEmail,
      twin.ids.users ?? "",
    ),
  );
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
  const sessions = await newSessions(
    t.slug,
    t.adminKey,
    ownerEmail,
    ownerPair.access_token,
    memberEmail,
    String(member.id),
  );
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
    ...Object.values(ids),
  ];
  return {
    id: t.id,
    slug: t.slug,
    adminKey: t.adminKey,
    ownerToken: ownerPair.access_token,
    ownerRefresh: ownerPair.refresh_token,
    ownerEmail,
    memberEmail,
    ids,
    signedUrl: `${signed.pathname}${signed.search}`,
    markers,
  };
}
