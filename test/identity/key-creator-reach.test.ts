// An API key never grants more than its creator holds now: its scopes, capped by what the user
// who created it holds (their roles' permissions), or by what the key that minted it holds,
// all the way up (docs/identity.md, "What a key holds"). Isolates cache a verified key for at
// most 10 s, so each test moves the manual clock past that bound instead of waiting.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { accept, anAdmin, inviteAs, type Platform, type Tenant } from "./inviter-helpers";
import { platformAt } from "./two-factor-helpers";

/** Past the isolates' 10 s bound on a cached key. */
const PAST_THE_BOUND = 10_001;

/** A key created with `token`; its id and secret. */
async function keyOf(p: Platform, token: string, scopes: string[], name = "reach") {
  const res = await p.call("/api/v1/admin/api-keys", { token, body: { name, scopes } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: String(res.body.id), key: String(res.body.key) };
}

/** The status of listing the tenant's keys (admin.keys.read) with `token`. */
const listing = async (p: Platform, token: string) => (await p.call("/api/v1/admin/api-keys", { token })).status;

/** Grants (`PUT`) or revokes (`DELETE`) `role` of `userId`, with the tenant's bootstrap key. */
async function bind(p: Platform, t: Tenant, userId: string, role: string, method: "PUT" | "DELETE") {
  const res = await p.call(`/api/v1/admin/users/${userId}/roles/${role}`, { method, token: t.adminKey });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

describe("a key is capped by what its creator holds now", () => {
  it("a demoted admin's key, and the key it minted, are refused past the bound and work again when the role comes back", async () => {
    const p = platformAt("2033-01-01T00:00:00.000Z");
    const t = await p.tenant("reach-demoted");
    const admin = await anAdmin(p, t, "demoted.admin@example.com");
    const parent = await keyOf(p, admin.token, ["admin.keys.read", "admin.keys.write"], "parent");
    const child = await keyOf(p, parent.key, ["admin.keys.read"], "child");
    expect(await listing(p, parent.key)).toBe(200);
    expect(await listing(p, child.key)).toBe(200);

    await bind(p, t, admin.id, "admin", "DELETE");
    p.clock.advance(PAST_THE_BOUND);
    // The user's own token and both keys agree: none holds admin.keys.read any more.
    expect(await listing(p, admin.token)).toBe(403);
    const refused = await p.call("/api/v1/admin/api-keys", { token: parent.key });
    expect([refused.status, refused.body.code]).toEqual([403, "forbidden"]);
    expect(await listing(p, child.key)).toBe(403);
    // Paused, not revoked: the key still authenticates, holding nothing its creator does not.
    const me = await p.call("/api/v1/me", { token: parent.key });
    expect([me.status, me.body.permissions]).toEqual([200, []]);

    await bind(p, t, admin.id, "admin", "PUT");
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, parent.key)).toBe(200);
    expect(await listing(p, child.key)).toBe(200);
  });

  it("a demotion made elsewhere (another isolate) reaches a cached key within 10 s of the request clock", async () => {
    const p = platformAt("2033-01-06T00:00:00.000Z");
    const t = await p.tenant("reach-elsewhere");
    const admin = await anAdmin(p, t, "elsewhere.admin@example.com");
    const key = await keyOf(p, admin.token, ["admin.keys.read"]);
    expect(await listing(p, key.key)).toBe(200);
    // Straight to the directory, as another isolate's request would: nothing here forgets the key.
    const ctx = {
      now: p.clock.now().toISOString(),
      actor: { kind: "platform" as const, id: "platform" },
      requestId: null,
    };
    const demoted = await directory(env, t.id).bindRole({ ctx, userId: admin.id, role: "admin", grant: false });
    expect(demoted.ok).toBe(true);
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, key.key)).toBe(403);
  });

  it("a role rewrite that drops a permission narrows the keys of its holders to the rest", async () => {
    const p = platformAt("2033-01-02T00:00:00.000Z");
    const t = await p.tenant("reach-rewrite");
    const made = await p.call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "keeper", permissions: ["admin.keys.read", "admin.keys.write", "identity.user.read"] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const holder = await p.user(t.slug, "keeper@example.com");
    const other = await p.user(t.slug, "other@example.com");
    await bind(p, t, holder.id, "keeper", "PUT");
    const key = await keyOf(p, holder.token, ["admin.keys.read", "identity.user.read"]);
    expect(await listing(p, key.key)).toBe(200);

    const rewritten = await p.call("/api/v1/admin/roles/keeper", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["admin.keys.write", "identity.user.read"] },
    });
    expect(rewritten.status, JSON.stringify(rewritten.body)).toBe(200);
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, key.key)).toBe(403);
    // What the role still grants, the key still does.
    expect((await p.call(`/api/v1/users/${other.id}`, { token: key.key })).status).toBe(200);
    const me = await p.call("/api/v1/me", { token: key.key });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    // Its scopes stay as they were given; what it may do now is what both allow.
    expect((me.body.key as { scopes: string[] }).scopes).toEqual(["admin.keys.read", "identity.user.read"]);
    expect(me.body.permissions).toEqual(["identity.user.read"]);
    // An admin reading the key sees which scopes its creator no longer holds, in the list and one by one.
    const listed = await p.call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
    const row = (listed.body.items as { id: string; withheld_scopes?: string[] }[]).find((k) => k.id === key.id);
    expect(row?.withheld_scopes).toEqual(["admin.keys.read"]);
    const one = await p.call(`/api/v1/admin/api-keys/${key.id}`, { token: t.adminKey });
    expect(one.body.withheld_scopes).toEqual(["admin.keys.read"]);
    expect(one.body.scopes).toEqual(["admin.keys.read", "identity.user.read"]);
  });

  it("an owner's key and the tenant's bootstrap key are untouched when the admin role loses what they use", async () => {
    const p = platformAt("2033-01-03T00:00:00.000Z");
    const t = await p.tenant("reach-owner");
    const owner = await p.user(t.slug, "owner@example.com");
    await bind(p, t, owner.id, "owner", "PUT");
    const admin = await anAdmin(p, t, "narrowed.admin@example.com");
    const ownerKey = await keyOf(p, owner.token, ["admin.keys.read"], "owner's");
    const adminKey = await keyOf(p, admin.token, ["admin.keys.read"], "admin's");

    const narrowed = await p.call("/api/v1/admin/roles/admin", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["identity.user.read"] },
    });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, adminKey.key)).toBe(403);
    expect(await listing(p, ownerKey.key)).toBe(200);
    // The bootstrap key (created by the platform, no user behind it) keeps every permission,
    // the owner's among them: it still hands out `*`.
    expect(await listing(p, t.adminKey)).toBe(200);
    const all = await p.call("/api/v1/admin/api-keys", { token: t.adminKey, body: { name: "all", scopes: ["*"] } });
    expect(all.status, JSON.stringify(all.body)).toBe(201);
  });

  it("a key holding every permission stops acting as an owner once its creator is no longer one", async () => {
    const p = platformAt("2033-01-04T00:00:00.000Z");
    const t = await p.tenant("reach-unowned");
    // Another owner, so the creator's binding can be taken back (the last owner's cannot).
    const keeper = await p.user(t.slug, "keeper@example.com");
    await bind(p, t, keeper.id, "owner", "PUT");
    const owner = await p.user(t.slug, "was.owner@example.com");
    await bind(p, t, owner.id, "owner", "PUT");
    const all = await keyOf(p, owner.token, ["*"], "owner's all");
    const target = await p.user(t.slug, "target@example.com");

    // Still an admin (every permission): only owner-ness is lost.
    await bind(p, t, owner.id, "admin", "PUT");
    await bind(p, t, owner.id, "owner", "DELETE");
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, all.key)).toBe(200);
    const grant = await p.call(`/api/v1/admin/users/${target.id}/roles/owner`, { method: "PUT", token: all.key });
    expect([grant.status, grant.body.code], JSON.stringify(grant.body)).toEqual([403, "forbidden"]);
    const minted = await p.call("/api/v1/admin/api-keys", { token: all.key, body: { name: "x", scopes: ["*"] } });
    expect(minted.status, JSON.stringify(minted.body)).toBe(403);
  });

  it("an invitation sent by a key whose creator was demoted is refused at acceptance", async () => {
    const p = platformAt("2033-01-05T00:00:00.000Z");
    const t = await p.tenant("reach-invite");
    const admin = await anAdmin(p, t, "inviting.admin@example.com");
    const key = await keyOf(p, admin.token, ["identity.invitation.write", "*.read"], "inviter");
    const sent = await inviteAs(p, t, key.key, "reach.guest@example.com", ["viewer"]);
    await bind(p, t, admin.id, "admin", "DELETE");
    const res = await accept(p, t, sent.token);
    expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([400, "invalid_token"]);
  });
});

describe("a key whose creator chain is broken holds nothing (rows from before the cascades)", () => {
  /** Runs `sql` in the tenant's directory, as a row left by an older version would be. */
  const rewrite = (tenantId: string, sql: string, ...params: string[]) =>
    runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
      state.storage.sql.exec(sql, ...params);
    });

  it("when its creator is no longer in the directory", async () => {
    const p = platformAt("2033-01-07T00:00:00.000Z");
    const t = await p.tenant("reach-gone");
    const admin = await anAdmin(p, t, "gone.admin@example.com");
    const key = await keyOf(p, admin.token, ["admin.keys.read"]);
    expect(await listing(p, key.key)).toBe(200);
    // A user deleted before deletion revoked their keys: the key names someone who is not there.
    await rewrite(t.id, "update api_keys set created_by = ? where id = ?", "01USERDELETEDLONGAGO0000000", key.id);
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, key.key)).toBe(403);
    const listed = await p.call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
    const row = (listed.body.items as { id: string; withheld_scopes?: string[] }[]).find((k) => k.id === key.id);
    expect(row?.withheld_scopes).toEqual(["admin.keys.read"]);
  });

  it("when a key it was minted from is revoked", async () => {
    const p = platformAt("2033-01-08T00:00:00.000Z");
    const t = await p.tenant("reach-orphan");
    const parent = await keyOf(p, t.adminKey, ["admin.keys.read", "admin.keys.write"], "parent");
    const child = await keyOf(p, parent.key, ["admin.keys.read"], "child");
    expect(await listing(p, child.key)).toBe(200);
    // The parent revoked without the cascade that now revokes what it minted.
    await rewrite(t.id, "update api_keys set revoked_at = ? where id = ?", p.clock.now().toISOString(), parent.id);
    p.clock.advance(PAST_THE_BOUND);
    expect(await listing(p, child.key)).toBe(403);
  });
});
