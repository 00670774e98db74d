import type { Call, Sweep } from "./sweep";
import type { Fixtures } from "./valid";

/**
 * Requests the document calls valid that the modules refuse: taken names,
 * unknown ids, bad tokens, wrong passwords, a second publish. They check the
 * error responses each module declares itself. None changes anything.
 */
export async function refusals(s: Sweep, fx: Fixtures): Promise<void> {
  const root = { authorization: `Bearer ${fx.rootKey}` };
  const admin = { authorization: `Bearer ${fx.adminKey}` };
  const anon = { "x-tenant": fx.slug };
  const nope = "nope";
  const calls: Omit<Call, "intent">[] = [
    {
      op: "POST /api/v1/platform/tenants",
      label: "slug taken",
      expect: 409,
      code: "conflict",
      headers: root,
      json: { slug: fx.slug, name: "Again" },
    },
    { op: "GET /api/v1/platform/tenants/{id}", label: "unknown id", expect: 404, headers: root, params: { id: nope } },
    {
      op: "POST /api/v1/platform/jobs/{module}/{job}/run",
      label: "unknown job",
      expect: 404,
      code: "not_found",
      headers: root,
      params: { module: "events", job: nope },
    },
    {
      op: "POST /api/v1/platform/tenants/{id}/admin-keys",
      label: "unknown id",
      expect: 404,
      headers: root,
      params: { id: nope },
      json: { name: "recovery" },
    },
    {
      op: "POST /api/v1/auth/register",
      label: "email taken",
      expect: 409,
      code: "conflict",
      headers: anon,
      json: { email: fx.email, password: fx.password, name: "Ada again" },
    },
    {
      op: "POST /api/v1/auth/login",
      label: "wrong password",
      expect: 401,
      code: "unauthenticated",
      headers: anon,
      json: { email: fx.email, password: "not-the-password" },
    },
    {
      op: "POST /api/v1/auth/refresh",
      label: "unknown refresh token",
      expect: 401,
      code: "unauthenticated",
      headers: anon,
      json: { refresh_token: "plr_unknown" },
    },
    {
      op: "POST /api/v1/auth/verify-email",
      label: "unknown token",
      expect: 400,
      code: "invalid_token",
      headers: anon,
      json: { token: "plv_unknown" },
    },
    {
      op: "POST /api/v1/auth/password-reset/confirm",
      label: "unknown token",
      expect: 400,
      code: "invalid_token",
      headers: anon,
      json: { token: "plp_unknown", password: "a-long-enough-password" },
    },
    {
      op: "POST /api/v1/auth/verify-email/resend",
      label: "unknown email",
      expect: 202,
      headers: anon,
      json: { email: "nobody@example.com" },
    },
    {
      op: "POST /api/v1/auth/password-reset",
      label: "unknown email",
      expect: 202,
      headers: anon,
      json: { email: "nobody@example.com" },
    },
    {
      op: "POST /api/v1/auth/change-password",
      label: "wrong current password",
      expect: 403,
      code: "wrong_password",
      headers: { authorization: `Bearer ${fx.access}` },
      json: { current_password: "not-the-password", new_password: "a-long-enough-password" },
    },
    { op: "GET /api/v1/users/{id}", label: "unknown id", expect: 404, headers: admin, params: { id: nope } },
    {
      op: "PATCH /api/v1/users/{id}",
      label: "unknown id",
      expect: 404,
      headers: admin,
      params: { id: nope },
      json: { name: "x" },
    },
    { op: "DELETE /api/v1/users/{id}", label: "unknown id", expect: 404, headers: admin, params: { id: nope } },
    {
      op: "DELETE /api/v1/admin/api-keys/{id}",
      label: "unknown id",
      expect: 404,
      headers: admin,
      params: { id: nope },
    },
    {
      op: "POST /api/v1/admin/roles",
      label: "unknown permission",
      expect: 400,
      code: "validation_failed",
      headers: admin,
      json: { name: "odd", permissions: ["no.such.permission"] },
    },
    {
      op: "POST /api/v1/admin/roles",
      label: "name taken",
      expect: 409,
      code: "role_exists",
      headers: admin,
      json: { name: "member", permissions: [] },
    },
    {
      op: "GET /api/v1/admin/roles/{name}",
      label: "unknown role",
      expect: 404,
      headers: admin,
      params: { name: nope },
    },
    {
      op: "PUT /api/v1/admin/roles/{name}",
      label: "unknown role",
      expect: 404,
      headers: admin,
      params: { name: nope },
      json: { permissions: [] },
    },
    {
      op: "DELETE /api/v1/admin/roles/{name}",
      label: "owner",
      expect: 409,
      headers: admin,
      params: { name: "owner" },
    },
    {
      op: "PUT /api/v1/admin/users/{id}/roles/{name}",
      label: "unknown user",
      expect: 404,
      headers: admin,
      params: { id: nope, name: "member" },
    },
    {
      op: "DELETE /api/v1/admin/users/{id}/roles/{name}",
      label: "unknown user",
      expect: 404,
      headers: admin,
      params: { id: nope, name: "member" },
    },
    {
      op: "POST /api/v1/admin/dead-letters/{id}/replay",
      label: "unknown id",
      expect: 404,
      headers: admin,
      params: { id: nope },
    },
    { op: "GET /api/v1/blog/posts/{id}", label: "unknown id", expect: 404, headers: admin, params: { id: nope } },
    {
      op: "PATCH /api/v1/blog/posts/{id}",
      label: "nothing to change",
      expect: 400,
      code: "post_update_empty",
      headers: admin,
      params: { id: fx.postId },
      json: {},
    },
    {
      op: "POST /api/v1/blog/posts/{id}/publish",
      label: "already published",
      expect: 409,
      code: "post_already_published",
      headers: { ...admin, "if-match": String(fx.postVersion) },
      params: { id: fx.postId },
    },
    { op: "DELETE /api/v1/blog/posts/{id}", label: "unknown id", expect: 404, headers: admin, params: { id: nope } },
  ];
  for (const call of calls) await s.call({ ...call, intent: "valid" });
}
