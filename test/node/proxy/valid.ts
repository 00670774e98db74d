import { invitations, twoFactor } from "./identity-flows";
import { ssoSweep, ssoTearDown } from "./sso";
import type { Call, Sweep } from "./sweep";

/** What the valid requests created, for the error requests and the teardown. */
export interface Fixtures {
  rootKey: string;
  slug: string;
  tenantId: string;
  /** The tenant's admin key: every permission. */
  adminKey: string;
  /** Another tenant's slug, for tenant_mismatch. */
  otherSlug: string;
  /** An API key holding only `blog.post.read`, for forbidden. */
  readerKey: string;
  readerKeyId: string;
  email: string;
  password: string;
  userId: string;
  /** A second user, deleted at the end. */
  bobId: string;
  access: string;
  refresh: string;
  postId: string;
  postVersion: number;
  /**
   * A live resource id by path prefix, for the error requests derived later
   * (If-Match needs a resource that exists): the core's post, and whatever a
   * module sweep adds, e.g. `fx.ids["/api/v1/admin/webhooks/"] = endpoint.id`.
   */
  ids: Record<string, string>;
}

/**
 * Plants a dead letter of the tenant in D1 (nothing in a short run fails often
 * enough to make one): an event's (`dead_letters`), or a mail's
 * (`mail_dead_letters`); resolves to its id.
 */
export type PlantDeadLetter = (tenantId: string, kind?: "event" | "mail") => Promise<string>;

export const PASSWORD = "sweep-password-0123456789";
export const SLUG = "sweep";

export type Json = Record<string, unknown>;
export const str = (json: Json, key: string) => String(json[key]);

/**
 * The newest mailed token to `to` whose subject contains `subject`, once there are `count`
 * such mails; polls, as some mail leaves after the response.
 */
export async function mailedToken(s: Sweep, slug: string, to: string, subject: string, count = 1): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { items } = await s.need<{ items: { subject: string; body: string }[] }>({
      op: "GET /api/v1/dev/mailbox",
      label: `mailbox of ${to}`,
      intent: "valid",
      expect: 200,
      headers: { "x-tenant": slug },
      query: { to },
    });
    const matching = items.filter((m) => m.subject.includes(subject));
    const token = matching.length >= count ? matching[0]?.body.match(/token: (\S+)/)?.[1] : undefined;
    if (token) return token;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no "${subject}" mail to ${to}`);
}

/**
 * Valid requests for every operation that creates or reads, in an order in
 * which each finds what it needs: tenants with the root key, users registered,
 * verified and logged in, keys, roles, a post, a dead letter, the audit log.
 * Deletions wait for {@link tearDown}, so the error requests still find them.
 */
export async function setUp(s: Sweep, rootKey: string, plant: PlantDeadLetter): Promise<Fixtures> {
  const valid = { intent: "valid" as const };
  for (const op of [
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /.well-known/jwks.json",
    "GET /api/v1/system/info",
  ]) {
    await s.call({ ...valid, op, label: "no credential", expect: 200 });
  }

  const root = { authorization: `Bearer ${rootKey}` };
  const tenant = await s.need<Json>({
    ...valid,
    op: "POST /api/v1/platform/tenants",
    label: "root key",
    expect: 201,
    headers: root,
    json: { slug: SLUG, name: "Sweep" },
  });
  const tenantId = str(tenant, "id");
  const other = await s.need<Json>({
    ...valid,
    op: "POST /api/v1/platform/tenants",
    label: "a second tenant",
    expect: 201,
    headers: root,
    json: { slug: "other", name: "Other", plan: "pro" },
  });
  await s.call({ ...valid, op: "GET /api/v1/platform/tenants", label: "root key", expect: 200, headers: root });
  await s.call({ ...valid, op: "GET /api/v1/platform/events/consumer", label: "root key", expect: 200, headers: root });
  await s.call({
    ...valid,
    op: "POST /api/v1/platform/events/replay",
    label: "root key",
    expect: 200,
    headers: root,
    json: { consumer: "blog:blog.posts" },
  });
  // A job run by name (under its lease, like a due run), then the jobs with that run recorded.
  await s.call({
    ...valid,
    op: "POST /api/v1/platform/jobs/{module}/{job}/run",
    label: "root key",
    expect: 200,
    headers: root,
    params: { module: "events", job: "purge-processed" },
  });
  await s.call({ ...valid, op: "GET /api/v1/platform/jobs", label: "root key", expect: 200, headers: root });
  // Key rotation: the tenant's ciphertexts per key version, and its re-encryption (one version: nothing stale).
  await s.call({
    ...valid,
    op: "GET /api/v1/platform/crypto/versions",
    label: "root key",
    expect: 200,
    headers: root,
    query: { tenant_id: tenantId },
  });
  await s.call({
    ...valid,
    op: "POST /api/v1/platform/crypto/reencrypt",
    label: "root key",
    expect: 200,
    headers: root,
    json: { tenant_id: tenantId },
  });
  const platformOne = { ...valid, headers: root, params: { id: tenantId } };
  await s.call({ ...platformOne, op: "GET /api/v1/platform/tenants/{id}", label: "root key", expect: 200 });
  await s.call({
    ...platformOne,
    op: "POST /api/v1/platform/tenants/{id}/admin-keys",
    label: "root key",
    expect: 201,
    json: { name: "recovery" },
  });
  // The second tenant changed, suspended and resumed at once: it is active again for the requests after.
  const otherOne = { ...valid, headers: root, params: { id: str(other, "id") } };
  await s.call({
    ...otherOne,
    op: "PATCH /api/v1/platform/tenants/{id}",
    label: "root key",
    expect: 200,
    json: { name: "Other" },
  });
  await s.call({
    ...otherOne,
    op: "POST /api/v1/platform/tenants/{id}/suspend",
    label: "root key",
    expect: 200,
    json: { reason: "sweep" },
  });
  await s.call({ ...otherOne, op: "POST /api/v1/platform/tenants/{id}/resume", label: "root key", expect: 200 });
  await s.call({
    ...otherOne,
    op: "DELETE /api/v1/platform/tenants/{id}/rate-limits",
    label: "root key",
    expect: 204,
  });
  // A third tenant, deleted: 202, deleting (its erasure is a job's, a minute later); the others go on as they were.
  const gone = await s.need<Json>({
    ...valid,
    op: "POST /api/v1/platform/tenants",
    label: "a tenant to delete",
    expect: 201,
    headers: root,
    json: { slug: "gone", name: "Gone" },
  });
  await s.call({
    ...valid,
    headers: root,
    params: { id: str(gone, "id") },
    op: "DELETE /api/v1/platform/tenants/{id}",
    label: "root key",
    expect: 202,
  });

  const email = "ada@example.com";
  const anon = { ...valid, headers: { "x-tenant": SLUG } };
  const register = (address: string, name: string) =>
    s.need<Json>({
      ...anon,
      op: "POST /api/v1/auth/register",
      label: name,
      expect: 201,
      json: { email: address, password: PASSWORD, name },
    });
  const userId = str(await register(email, "Ada"), "id");
  const bobId = str(await register("bob@example.com", "Bob"), "id");
  // A second verification mail voids the first token; the newest verifies.
  await mailedToken(s, SLUG, email, "Verify");
  await s.call({
    ...anon,
    op: "POST /api/v1/auth/verify-email/resend",
    label: "unverified email",
    expect: 202,
    json: { email },
  });
  const verification = await mailedToken(s, SLUG, email, "Verify", 2);
  await s.call({
    ...anon,
    op: "POST /api/v1/auth/verify-email",
    label: "mailed token",
    expect: 204,
    json: { token: verification },
  });
  const login = (password: string) =>
    s.need<Json>({
      ...anon,
      op: "POST /api/v1/auth/login",
      label: "email and password",
      expect: 200,
      json: { email, password },
    });
  const first = await login(PASSWORD);
  const pair = await s.need<Json>({
    ...anon,
    op: "POST /api/v1/auth/refresh",
    label: "refresh token",
    expect: 200,
    json: { refresh_token: str(first, "refresh_token") },
  });

  const admin = { ...valid, headers: { authorization: `Bearer ${str(tenant, "admin_key")}` } };
  const jwt = { ...valid, headers: { authorization: `Bearer ${str(pair, "access_token")}` } };
  await s.call({ ...jwt, op: "GET /api/v1/me", label: "JWT", expect: 200 });
  await s.call({ ...admin, op: "GET /api/v1/me", label: "API key", expect: 200 });
  await s.call({ ...admin, op: "GET /api/v1/users", label: "admin key", expect: 200, query: { limit: "10" } });
  await s.call({ ...jwt, op: "GET /api/v1/users/{id}", label: "self", expect: 200, params: { id: userId } });
  await s.call({
    ...jwt,
    op: "PATCH /api/v1/users/{id}",
    label: "self",
    expect: 200,
    params: { id: userId },
    json: { name: "Ada L." },
  });
  const newPassword = `${PASSWORD}-changed`;
  await s.call({
    ...jwt,
    op: "POST /api/v1/auth/change-password",
    label: "JWT",
    expect: 204,
    json: { current_password: PASSWORD, new_password: newPassword },
  });
  await twoFactor(s, { anon, jwt, admin, userId, login: () => login(newPassword) });

  const reader = await s.need<Json>({
    ...admin,
    op: "POST /api/v1/admin/api-keys",
    label: "admin key",
    expect: 201,
    json: { name: "reader", scopes: ["blog.post.read"] },
  });
  await s.call({ ...admin, op: "GET /api/v1/admin/api-keys", label: "admin key", expect: 200 });
  await s.call({
    ...admin,
    op: "GET /api/v1/admin/api-keys/{id}",
    label: "admin key",
    expect: 200,
    params: { id: str(reader, "id") },
  });

  await s.call({ ...admin, op: "GET /api/v1/admin/settings", label: "admin key", expect: 200 });
  await invitations(s, admin, anon);
  await ssoSweep(s, admin, anon, { jwt, password: newPassword });
  await s.call({
    ...admin,
    op: "PATCH /api/v1/admin/settings",
    label: "admin key",
    expect: 200,
    json: { cors_origins: ["https://app.example.com"] },
  });

  await s.call({ ...admin, op: "GET /api/v1/admin/roles", label: "admin key", expect: 200 });
  const role = { ...admin, params: { name: "editor", id: bobId } };
  await s.call({
    ...role,
    op: "POST /api/v1/admin/roles",
    label: "admin key",
    expect: 201,
    json: { name: "editor", permissions: ["blog.post.read", "blog.post.update"], description: "Edits posts" },
  });
  await s.call({ ...role, op: "GET /api/v1/admin/roles/{name}", label: "admin key", expect: 200 });
  await s.call({
    ...role,
    op: "PUT /api/v1/admin/roles/{name}",
    label: "admin key",
    expect: 200,
    json: { permissions: ["blog.post.read"] },
  });
  await s.call({ ...role, op: "PUT /api/v1/admin/users/{id}/roles/{name}", label: "admin key", expect: 204 });
  await s.call({ ...role, op: "DELETE /api/v1/admin/users/{id}/roles/{name}", label: "admin key", expect: 204 });
  await s.call({ ...role, op: "DELETE /api/v1/admin/roles/{name}", label: "admin key", expect: 204 });

  const post = await s.need<Json>({
    ...jwt,
    op: "POST /api/v1/blog/posts",
    label: "member",
    expect: 201,
    json: { title: "Hello", content: "First post." },
  });
  const onPost = { params: { id: str(post, "id") } };
  await s.call({ ...admin, op: "GET /api/v1/blog/posts", label: "admin key", expect: 200, query: { status: "draft" } });
  await s.call({
    ...admin,
    ...onPost,
    op: "GET /api/v1/blog/posts/{id}",
    label: "strong read",
    expect: 200,
    query: { consistency: "strong" },
  });
  await s.call({
    ...jwt,
    ...onPost,
    op: "PATCH /api/v1/blog/posts/{id}",
    label: "author, If-Match",
    expect: 200,
    headers: { ...jwt.headers, "if-match": '"1"' },
    json: { title: "Hello again" },
  });
  await s.call({
    ...jwt,
    ...onPost,
    op: "POST /api/v1/blog/posts/{id}/publish",
    label: "author, If-Match",
    expect: 200,
    headers: { ...jwt.headers, "if-match": "2" },
  });

  await s.call({ ...admin, op: "GET /api/v1/admin/dead-letters", label: "admin key", expect: 200 });
  await s.call({
    ...admin,
    op: "POST /api/v1/admin/dead-letters/{id}/replay",
    label: "a dead letter",
    expect: 202,
    params: { id: await plant(tenantId) },
  });
  await s.call({
    ...admin,
    op: "DELETE /api/v1/admin/dead-letters/{id}",
    label: "a dead letter",
    expect: 204,
    params: { id: await plant(tenantId) },
  });
  const platformMail = { ...valid, headers: root };
  await s.call({
    ...platformMail,
    op: "GET /api/v1/platform/events/dead-letters",
    label: "root key",
    expect: 200,
    query: { tenant_id: tenantId, pending: "true" },
  });
  await s.call({
    ...platformMail,
    op: "POST /api/v1/platform/events/dead-letters/{id}/replay",
    label: "a dead letter",
    expect: 202,
    params: { id: await plant(tenantId) },
  });
  await s.call({
    ...platformMail,
    op: "DELETE /api/v1/platform/events/dead-letters/{id}",
    label: "a dead letter",
    expect: 204,
    params: { id: await plant(tenantId) },
  });
  await s.call({
    ...platformMail,
    op: "GET /api/v1/platform/mail/dead-letters",
    label: "root key",
    expect: 200,
    query: { tenant_id: tenantId, pending: "true" },
  });
  await s.call({
    ...platformMail,
    op: "POST /api/v1/platform/mail/dead-letters/{id}/replay",
    label: "a mail dead letter",
    expect: 202,
    params: { id: await plant(tenantId, "mail") },
  });
  await s.call({
    ...platformMail,
    op: "DELETE /api/v1/platform/mail/dead-letters/{id}",
    label: "a mail dead letter",
    expect: 204,
    params: { id: await plant(tenantId, "mail") },
  });
  await plant(tenantId, "mail");
  await s.call({
    ...platformMail,
    op: "POST /api/v1/platform/mail/replay-dead-letters",
    label: "root key",
    expect: 200,
    json: { limit: 10, tenant_id: tenantId },
  });
  await s.call({ ...admin, op: "GET /api/v1/admin/audit", label: "admin key", expect: 200, query: { limit: "5" } });
  await s.call({ ...admin, op: "GET /api/v1/admin/audit/export", label: "admin key", expect: 200 });
  await s.call({ ...admin, op: "GET /api/v1/admin/audit/verify", label: "admin key", expect: 200 });

  // Last of the JWT's uses: a reset revokes every session of the user.
  await s.call({ ...anon, op: "POST /api/v1/auth/password-reset", label: "known email", expect: 202, json: { email } });
  const reset = await mailedToken(s, SLUG, email, "Reset");
  await s.call({
    ...anon,
    op: "POST /api/v1/auth/password-reset/confirm",
    label: "mailed token",
    expect: 204,
    json: { token: reset, password: PASSWORD },
  });
  const fresh = await login(PASSWORD);

  return {
    rootKey,
    slug: SLUG,
    tenantId,
    adminKey: str(tenant, "admin_key"),
    otherSlug: "other",
    readerKey: str(reader, "key"),
    readerKeyId: str(reader, "id"),
    email,
    password: PASSWORD,
    userId,
    bobId,
    access: str(fresh, "access_token"),
    refresh: str(fresh, "refresh_token"),
    postId: str(post, "id"),
    postVersion: 3,
    // The sweep's tenant, for its changes' If-Match requests (a stale one changes nothing).
    ids: { "/api/v1/blog/posts/": str(post, "id"), "/api/v1/platform/tenants/": tenantId },
  };
}

/** Lists until a page has items: the read models fill from the events queue, a little after each write. */
async function listedOnce(s: Sweep, call: Call): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { items } = await s.need<{ items?: unknown[] }>(call);
    if (items?.length) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${call.op} stayed empty`);
}

/**
 * The lists again, now with items for Prism to check against their schemas,
 * then the deletions, after the error requests: a post, a key, a user, a session.
 */
export async function tearDown(s: Sweep, fx: Fixtures): Promise<void> {
  const admin = { intent: "valid" as const, label: "admin key", headers: { authorization: `Bearer ${fx.adminKey}` } };
  for (const op of ["GET /api/v1/blog/posts", "GET /api/v1/admin/audit", "GET /api/v1/admin/dead-letters"]) {
    await listedOnce(s, { ...admin, op, label: "with items", expect: 200 });
  }
  await s.call({
    ...admin,
    op: "DELETE /api/v1/blog/posts/{id}",
    label: "author, If-Match",
    expect: 204,
    params: { id: fx.postId },
    headers: { authorization: `Bearer ${fx.access}`, "if-match": `"${fx.postVersion}"` },
  });
  await s.call({ ...admin, op: "DELETE /api/v1/admin/api-keys/{id}", expect: 204, params: { id: fx.readerKeyId } });
  await ssoTearDown(s, admin);
  // Mailed a reset by the admin, signed out with it (202, nothing in the body).
  await s.call({
    ...admin,
    op: "POST /api/v1/users/{id}/password-reset",
    label: "sign_out",
    expect: 202,
    params: { id: fx.bobId },
    json: { sign_out: true },
  });
  // Suspended and reactivated before the deletion: each answers the user with its status.
  await s.call({
    ...admin,
    op: "POST /api/v1/users/{id}/suspend",
    expect: 200,
    params: { id: fx.bobId },
    json: { reason: "sweep" },
  });
  await s.call({ ...admin, op: "POST /api/v1/users/{id}/reactivate", expect: 200, params: { id: fx.bobId } });
  await s.call({ ...admin, op: "DELETE /api/v1/users/{id}", expect: 204, params: { id: fx.bobId } });
  // A user deletes their own account with their password.
  const anon = { intent: "valid" as const, headers: { "x-tenant": fx.slug } };
  const cy = { email: "cy@example.com", password: PASSWORD, name: "Cy" };
  await s.need<Json>({ ...anon, op: "POST /api/v1/auth/register", label: "Cy", expect: 201, json: cy });
  const session = await s.need<Json>({
    ...anon,
    op: "POST /api/v1/auth/login",
    label: "Cy",
    expect: 200,
    json: { email: cy.email, password: PASSWORD },
  });
  // Asks to move to another address (202; the change waits for the token mailed there).
  await s.call({
    intent: "valid",
    op: "POST /api/v1/me/email",
    label: "JWT, password",
    expect: 202,
    headers: { authorization: `Bearer ${str(session, "access_token")}` },
    json: { new_email: "cy.new@example.com", password: PASSWORD },
  });
  await s.call({
    intent: "valid",
    op: "DELETE /api/v1/me",
    label: "JWT, password",
    expect: 204,
    headers: { authorization: `Bearer ${str(session, "access_token")}` },
    json: { password: PASSWORD },
  });
  await s.call({
    intent: "valid",
    op: "POST /api/v1/auth/logout",
    label: "refresh token",
    expect: 204,
    headers: { "x-tenant": fx.slug },
    json: { refresh_token: fx.refresh },
  });
}
