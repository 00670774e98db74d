// GET /api/v1/me/export: a signed-in user's copy of what the tenant holds about them (GDPR art. 15
// and 20), each module's part under its name: their account, sessions, keys, invitations, posts,
// files and audit entries; nobody else's, no other tenant's, and never a hash or a secret, which
// are read here from the directory itself and searched for in the answer. docs/identity.md,
// "What an export holds".
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { bytesOf, eventually, uploaded } from "../files/helpers";
import { gateway, parseList } from "../gateway/helpers";
import { auditOf, auditSettled, call, mailsTo, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";
import { codeAt } from "./two-factor-helpers";

type Json = Record<string, unknown>;
type Listed = { items: Json[]; truncated: boolean };
interface Export {
  tenant_id: string;
  user_id: string;
  exported_at: string;
  modules: {
    identity: Json & { account: Json; two_factor: Json; sessions: Listed; api_keys: Listed; invitations_sent: Listed };
    blog: { posts: Json[]; truncated: boolean };
    files: { files: Json[]; truncated: boolean };
    audit: { entries: Json[]; truncated: boolean; about: { entries: Json[]; truncated: boolean } };
  };
}

/** Every hash and sealed value the tenant's directory keeps of `userId`: none may leave in an export. */
async function storedSecretsOf(tenantId: string, userId: string): Promise<string[]> {
  return runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
    const sql = state.storage.sql;
    const column = (query: string, ...args: string[]) =>
      sql
        .exec<Record<string, string>>(query, ...args)
        .toArray()
        .map((r) => String(Object.values(r)[0]));
    return [
      ...column("select password_hash from users where id = ?", userId),
      ...column(
        "select t.token_hash from refresh_tokens t join token_families f on f.id = t.family_id where f.user_id = ?",
        userId,
      ),
      ...column("select key_hash from api_keys where created_by = ?", userId),
      ...column("select sealed_secret from two_factor where user_id = ?", userId),
      ...column("select code_hash from recovery_codes where user_id = ?", userId),
      ...column("select token_hash from invitations where json_extract(invited_by, '$.id') = ?", userId),
    ];
  });
}

const exportOf = (token: string) => call("/api/v1/me/export", { token });

describe("GET /api/v1/me/export", () => {
  let t: { id: string; slug: string; adminKey: string };
  let ada: Awaited<ReturnType<typeof newUser>>;
  let adaPost: string;
  let bobPost: string;
  let otherPost: string;
  let other: { id: string; slug: string };
  let bob: Awaited<ReturnType<typeof newUser>>;
  let carol: Awaited<ReturnType<typeof newUser>>;
  let adaFile: string;
  let key: Json;
  let totp: { secret: string; recovery_codes: string[] };
  let got: { status: number; body: Json; headers: Headers };
  let text: string;

  beforeAll(async () => {
    t = await newTenant("exp");
    ada = await newUser(t.slug);
    // An administrator too, so she has created keys, sent an invitation and uploaded a file of her own.
    const granted = await call(`/api/v1/admin/users/${ada.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);
    const post = await call("/api/v1/blog/posts", {
      token: ada.access_token,
      body: { title: "Ada's own draft", content: "what Ada wrote" },
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    adaPost = String(post.body.id);
    adaFile = (await uploaded(ada.access_token, bytesOf(64), "ada-notes.txt")).id;
    const made = await call("/api/v1/admin/api-keys", {
      token: ada.access_token,
      body: { name: "ada-ci", scopes: ["blog.post.read"] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    key = made.body;
    const invited = await call("/api/v1/admin/invitations", {
      token: ada.access_token,
      body: { email: `friend-${t.slug}@example.com`, roles: ["viewer"] },
    });
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    const started = await call("/api/v1/me/two-factor", { method: "POST", token: ada.access_token });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const secret = String(started.body.secret);
    const confirmed = await call("/api/v1/me/two-factor/confirm", {
      token: ada.access_token,
      body: { code: codeAt(secret, manualClock(systemClock.now())) },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    totp = { secret, recovery_codes: confirmed.body.recovery_codes as string[] };

    // Bob, in the same tenant, and Carol, in another, write posts of their own.
    bob = await newUser(t.slug);
    const bobs = await call("/api/v1/blog/posts", {
      token: bob.access_token,
      body: { title: "Bob's post", content: "Bob's words" },
    });
    expect(bobs.status, JSON.stringify(bobs.body)).toBe(201);
    bobPost = String(bobs.body.id);
    other = await newTenant("exq");
    carol = await newUser(other.slug);
    const carols = await call("/api/v1/blog/posts", {
      token: carol.access_token,
      body: { title: "Carol's post", content: "Carol's words" },
    });
    expect(carols.status, JSON.stringify(carols.body)).toBe(201);
    otherPost = String(carols.body.id);

    // The audit log takes its entries from the events queue, a moment after each request.
    got = await eventually(
      () => exportOf(ada.access_token),
      (res) =>
        res.status !== 200 ||
        ((res.body as unknown as Export).modules.audit.entries.some((e) => e.action === "blog.post.created") &&
          (res.body as unknown as Export).modules.blog.posts.length > 0),
    );
    text = JSON.stringify(got.body);
  });

  it("answers the signed-in user their own data, not to be stored on the way", () => {
    expect(got.status, text).toBe(200);
    expect(got.headers.get("cache-control")).toBe("no-store");
    const body = got.body as unknown as Export;
    expect(body).toMatchObject({ tenant_id: t.id, user_id: ada.id });
    expect(Object.keys(body.modules).sort()).toEqual(["audit", "blog", "files", "identity"]);
    const id = body.modules.identity;
    expect(id.account).toMatchObject({ id: ada.id, email: ada.email, email_verified: false, status: "active" });
    expect(id.account.roles).toEqual(expect.arrayContaining(["admin", "member"]));
    expect(id.two_factor).toMatchObject({ enabled: true });
    expect(id.sessions.items.length).toBeGreaterThan(0);
    expect(id.sessions.items[0]).toHaveProperty("ip_hash");
    expect(id.api_keys.items).toEqual([
      expect.objectContaining({ id: key.id, name: "ada-ci", scopes: ["blog.post.read"], revoked: false }),
    ]);
    expect(id.invitations_sent.items).toEqual([
      expect.objectContaining({ email: `friend-${t.slug}@example.com`, status: "pending" }),
    ]);
    expect(body.modules.blog.posts).toEqual([
      expect.objectContaining({ id: adaPost, title: "Ada's own draft", content: "what Ada wrote", status: "draft" }),
    ]);
    expect(body.modules.files.files).toEqual([
      expect.objectContaining({ id: adaFile, name: "ada-notes.txt", size: 64, deleted: false }),
    ]);
    expect(body.modules.audit.entries.length).toBeGreaterThan(0);
    for (const part of [id.sessions, id.api_keys, id.invitations_sent, body.modules.blog, body.modules.files]) {
      expect(part.truncated).toBe(false);
    }
  });

  it("holds the audit entries about them made by others: the admin key's grant, their registration", async () => {
    const about = (res: typeof got) => (res.body as unknown as Export).modules.audit.about.entries;
    const own = (res: typeof got) => (res.body as unknown as Export).modules.audit.entries;
    // Both reach the audit log from the queue, in no set order: wait for the grant and her own act.
    const res = await eventually(
      () => exportOf(ada.access_token),
      (r) =>
        r.status !== 200 ||
        (about(r).some((e) => e.action === "identity.role.granted") &&
          own(r).some((e) => e.action === "identity.two_factor.enabled")),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const entries = about(res);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "identity.role.granted", actor_kind: "api_key" }),
        expect.objectContaining({ action: "identity.user.registered", actor_kind: "anonymous" }),
      ]),
    );
    // Her own acts on her account are hers, listed by actor once: not again here.
    const mine = own(res);
    expect(mine.some((e) => e.action === "identity.two_factor.enabled")).toBe(true);
    expect(entries.some((e) => e.action === "identity.two_factor.enabled")).toBe(false);
    // Newest first, the actor by kind alone: no id or address hash of whoever acted.
    expect(entries.map((e) => Number(e.seq))).toEqual([...entries.map((e) => Number(e.seq))].sort((a, b) => b - a));
    for (const e of entries) expect(Object.keys(e).sort()).toEqual(["action", "actor_kind", "at", "request_id", "seq"]);
    expect((res.body as unknown as Export).modules.audit.about.truncated).toBe(false);
  });

  it("holds nothing of another user of the tenant, nor of another tenant", () => {
    expect(got.status, text).toBe(200);
    for (const value of [bobPost, "Bob's post", bob.id, bob.email, otherPost, "Carol's post", carol.email, other.id]) {
      expect(text, value).not.toContain(value);
    }
  });

  it("holds no password hash, token hash, key, sealed secret or recovery code", async () => {
    expect(got.status, text).toBe(200);
    const stored = await storedSecretsOf(t.id, ada.id);
    // The password, two refresh tokens (login and the key's creator), the key, the TOTP secret, ten codes, the invitation.
    expect(stored.length).toBeGreaterThanOrEqual(6);
    const shown = [ada.refresh_token, String(key.key), totp.secret, ...totp.recovery_codes];
    for (const secret of [...stored, ...shown]) expect(text.includes(secret), secret).toBe(false);
  });

  it("refuses an API key before anything: an export is a person's", async () => {
    const res = await exportOf(t.adminKey);
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body).toMatchObject({ code: "forbidden", detail: "this route does not accept an API key" });
  });
});

describe("GET /api/v1/me/export, single-use tokens", () => {
  it("lists the tokens held for them, an email change's new address too, never a token or its hash", async () => {
    const t = await newTenant("ext");
    const eve = await newUser(t.slug);
    const reset = await call(`/api/v1/users/${eve.id}/password-reset`, { token: t.adminKey, body: {} });
    expect(reset.status, JSON.stringify(reset.body)).toBe(202);
    const newEmail = `eve-new-${t.slug}@example.com`;
    const asked = await call("/api/v1/me/email", {
      token: eve.access_token,
      body: { new_email: newEmail, password: PASSWORD },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const res = await exportOf(eve.access_token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const tokens = (res.body as unknown as Export).modules.identity.single_use_tokens as Listed;
    expect(tokens.truncated).toBe(false);
    expect(tokens.items.map((k) => k.kind).sort()).toEqual(["email_change", "password_reset", "verify_email"]);
    expect(tokens.items.find((k) => k.kind === "email_change")).toMatchObject({ new_email: newEmail });
    for (const k of tokens.items) expect(Object.keys(k).sort()).toEqual(["expires_at", "kind", "new_email", "used_at"]);
    const text = JSON.stringify(res.body);
    const mailed = [...(await mailsTo(t.slug, eve.email, 2)), ...(await mailsTo(t.slug, newEmail))]
      .map(tokenIn)
      .filter((token) => token !== "");
    const hashes = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      state.storage.sql
        .exec<{ token_hash: string }>("select token_hash from one_time_tokens where user_id = ?", eve.id)
        .toArray()
        .map((r) => r.token_hash),
    );
    expect(hashes).toHaveLength(3);
    expect(mailed.length).toBeGreaterThanOrEqual(3);
    for (const secret of [...mailed, ...hashes]) expect(text.includes(secret), secret).toBe(false);
  });
});

describe("GET /api/v1/me/export, audited", () => {
  it("records each export as an administrator's is: the person as actor and target", async () => {
    const t = await newTenant("exa");
    const dora = await newUser(t.slug);
    for (let i = 0; i < 2; i++) expect((await exportOf(dora.access_token)).status).toBe(200);
    // Two, not a third a batch late: counted after a marker.
    await auditSettled(t.slug, t.adminKey);
    const entries = await auditOf(t.adminKey, "identity.user.exported", 2);
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(entry).toMatchObject({
        actor: { kind: "user", id: dora.id },
        action: "identity.user.exported",
        target: `${t.id}/user/${dora.id}`,
      });
    }
    // A key's refused call took nothing and records no export.
    expect((await exportOf(t.adminKey)).status).toBe(403);
    const after = await call("/api/v1/admin/audit?action=identity.user.exported", { token: t.adminKey });
    expect(after.body.items).toHaveLength(2);
  });
});

describe("GET /api/v1/me/export, rate limited", () => {
  it("answers 429 past the personal_export policy, with Retry-After", async () => {
    const gw = gateway({ personal_export: { limit: 2, burst: 2, period_s: 3600 } });
    const tenant = await gw.tenant("exr");
    const email = `rate-${tenant.slug}@example.com`;
    const reg = await gw.call("/api/v1/auth/register", {
      tenant: tenant.slug,
      body: { email, password: "correct horse battery staple", name: "Rae" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await gw.call("/api/v1/auth/login", {
      tenant: tenant.slug,
      body: { email, password: "correct horse battery staple" },
    });
    const token = String(login.body.access_token);
    for (let i = 0; i < 2; i++) expect((await gw.call("/api/v1/me/export", { token })).status).toBe(200);
    const refused = await gw.call("/api/v1/me/export", { token });
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(parseList(refused.headers.get("ratelimit-policy")).personal_export).toMatchObject({ q: 2, w: 3600 });
  });
});
