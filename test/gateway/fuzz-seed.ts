// The real resources the OpenAPI walk (input-fuzz.test.ts) aims some of its requests at: an id
// that names something reaches past the 404 into the handler, where an If-Match, a body or a
// state check can still go wrong.
import { expect } from "vitest";
import { uploaded } from "../files/helpers";
import { call, login, newTenant, register, rootKey } from "../identity/helpers";
import type { Credentials } from "./fuzz-inputs";

type Json = Record<string, unknown>;

async function created(path: string, token: string, body: Json): Promise<Json> {
  const res = await call(path, { token, body });
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

/**
 * A fresh tenant with one of each resource, and the walk's credentials for it. `ids` are the
 * real path values; the tenant's own id is apart, as only some operations may be given it.
 */
export async function seededTenant(): Promise<{ creds: Credentials; ids: string[]; tenantId: string }> {
  const t = await newTenant("fuzz");
  // An owner signed in, for the operations only a user may call (sessions, two-factor, SSO links).
  const owner = await register(t.slug, `owner-${t.slug}@example.com`);
  const grant = await call(`/api/v1/admin/users/${String(owner.id)}/roles/owner`, { method: "PUT", token: t.adminKey });
  expect(grant.status, JSON.stringify(grant.body)).toBe(204);
  const { access_token } = await login(t.slug, `owner-${t.slug}@example.com`);
  const member = await register(t.slug, `member-${t.slug}@example.com`);
  const post = await created("/api/v1/blog/posts", t.adminKey, { title: "seed", content: "seed" });
  const creds = {
    tenantId: t.id,
    adminKey: t.adminKey,
    ownerToken: access_token,
    rootKey: rootKey(),
    slug: t.slug,
    stream: `${t.id}/post/${String(post.id)}`,
  };
  const hook = await created("/api/v1/admin/webhooks", t.adminKey, {
    url: "https://hooks.example.com/in",
    events: ["blog.post.*"],
  });
  const invitation = await created("/api/v1/admin/invitations", t.adminKey, {
    email: `invitee-${t.slug}@example.com`,
    roles: ["member"],
  });
  // A key the walk may revoke: never the admin key it authenticates with.
  const key = await created("/api/v1/admin/api-keys", t.adminKey, { name: "spare", scopes: ["blog.post.read"] });
  await created("/api/v1/admin/roles", t.adminKey, { name: "editor", permissions: ["blog.post.read"] });
  const file = await uploaded(t.adminKey, new TextEncoder().encode("seed"));
  const ids = [member.id, post.id, hook.id, invitation.id, key.id, file.id].map(String);
  return { creds, ids: [...ids, "editor", "member", "owner", "blog", "blog.posts"], tenantId: t.id };
}
