import { moduleSweeps } from "./modules";
import { SSO_SAMPLE } from "./sso";

/**
 * A body the document calls valid for each operation that takes one, sent by
 * error requests that must get past validation to reach the check they are
 * about (tenant, permission, If-Match). None of them changes anything: each of
 * those requests is refused before it would.
 */
export const SAMPLE_BODIES: Record<string, unknown> = {
  ...Object.assign({}, ...moduleSweeps.map((m) => m.samples)),
  "POST /api/v1/platform/tenants": { slug: "sample-tenant", name: "Sample" },
  "POST /api/v1/platform/tenants/{id}/admin-keys": { name: "sample" },
  "PATCH /api/v1/platform/tenants/{id}": { name: "Sweep" },
  "POST /api/v1/platform/tenants/{id}/suspend": { reason: "sample" },
  "POST /api/v1/platform/tenants/{tenant_id}/webhooks/{id}/disable": { reason: "sample" },
  "POST /api/v1/platform/events/replay": { consumer: "blog:blog.posts" },
  "POST /api/v1/platform/mail/replay-dead-letters": { limit: 1 },
  "POST /api/v1/platform/crypto/reencrypt": { tenant_id: "no-such-tenant" },
  "POST /api/v1/auth/register": { email: "nobody@example.com", password: "a-long-enough-password", name: "Nobody" },
  "POST /api/v1/auth/login": { email: "nobody@example.com", password: "a-long-enough-password" },
  "POST /api/v1/auth/refresh": { refresh_token: "plr_unknown" },
  "POST /api/v1/auth/logout": { refresh_token: "plr_unknown" },
  "POST /api/v1/auth/verify-email": { token: "plv_unknown" },
  "POST /api/v1/auth/verify-email/resend": { email: "nobody@example.com" },
  "POST /api/v1/auth/password-reset": { email: "nobody@example.com" },
  "POST /api/v1/auth/password-reset/confirm": { token: "plp_unknown", password: "a-long-enough-password" },
  "POST /api/v1/auth/change-password": { current_password: "wrong", new_password: "a-long-enough-password" },
  "PATCH /api/v1/users/{id}": { name: "Sample" },
  "POST /api/v1/users/{id}/suspend": { reason: "sample" },
  "POST /api/v1/users/{id}/password-reset": { sign_out: false },
  "DELETE /api/v1/me": { password: "a-long-enough-password" },
  "POST /api/v1/me/email": { new_email: "nobody@example.com", password: "a-long-enough-password" },
  "POST /api/v1/me/two-factor/confirm": { code: "000000" },
  "DELETE /api/v1/me/two-factor": { code: "000000" },
  "POST /api/v1/auth/two-factor": { challenge: "plc_unknown", code: "000000" },
  "POST /api/v1/admin/api-keys": { name: "sample", scopes: ["blog.post.read"] },
  "POST /api/v1/admin/roles": { name: "sample", permissions: ["blog.post.read"] },
  "PUT /api/v1/admin/roles/{name}": { permissions: ["blog.post.read"] },
  "PATCH /api/v1/admin/settings": { require_verified_email: false },
  "POST /api/v1/admin/invitations": { email: "nobody@example.com", roles: ["viewer"] },
  "POST /api/v1/auth/accept-invitation": { token: "pli_unknown", password: "a-long-enough-password", name: "Nobody" },
  "PUT /api/v1/admin/sso": SSO_SAMPLE,
  "POST /api/v1/me/sso/link": { password: "a-long-enough-password" },
  "DELETE /api/v1/me/sso": { password: "a-long-enough-password" },
  "POST /api/v1/blog/posts": { title: "Sample", content: "" },
  "PATCH /api/v1/blog/posts/{id}": { title: "Sample" },
};

/** Operations a key holding only `blog.post.read` may call: no `forbidden` request for them. */
export const READER_MAY: ReadonlySet<string> = new Set([
  "GET /api/v1/me",
  "GET /api/v1/blog/posts",
  "GET /api/v1/blog/posts/{id}",
]);

/** A path parameter value the document accepts, for requests about something else. */
export function validParam(path: string, name: string, ids: Readonly<Record<string, string>>): string {
  if (name === "name") return "member";
  // The platform's routes about a tenant's things: the sweep's own tenant.
  if (name === "tenant_id") return ids["/api/v1/platform/tenants/"] ?? "x1";
  if (name !== "id") return "x1";
  const prefix = Object.keys(ids)
    .filter((p) => path.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? "x1" : (ids[prefix] ?? "x1");
}

/** A path parameter value the route's schema refuses. */
export function invalidParam(name: string): string {
  return name === "name" ? "Not A Role" : "x".repeat(65);
}
