// Sessions: a user's refresh-token families, listed and revoked by the user
// and by an administrator under the authority policy.
import { describe, expect, it } from "vitest";
import { auditOf, call, login, newTenant, newUser, PASSWORD, register } from "./helpers";

interface Session {
  id: string;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  ip_hash: string | null;
  current: boolean;
}

const sessionsOf = async (token: string, path = "/api/v1/me/sessions") => {
  const res = await call(path, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as Session[];
};

/** Logs in with a user agent and a client address; returns the pair. */
async function loginFrom(slug: string, email: string, userAgent: string, ip: string) {
  const res = await call("/api/v1/auth/login", {
    tenant: slug,
    body: { email, password: PASSWORD },
    headers: { "user-agent": userAgent, "cf-connecting-ip": ip },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { access_token: string; refresh_token: string };
}

const refresh = (slug: string, refresh_token: string, headers: Record<string, string> = {}) =>
  call("/api/v1/auth/refresh", { tenant: slug, body: { refresh_token }, headers });

describe("your sessions", () => {
  it("lists each login newest first, with its user agent (truncated), ip hash, last use and which is current", async () => {
    const t = await newTenant("sess");
    const email = "ada@example.com";
    await register(t.slug, email);
    const phone = await loginFrom(t.slug, email, "Phone/1.0", "198.51.100.7");
    const laptop = await loginFrom(t.slug, email, `Laptop/${"x".repeat(400)}`, "203.0.113.9");
    const seen = await sessionsOf(laptop.access_token);
    expect(seen).toHaveLength(2);
    const [newest, oldest] = seen as [Session, Session];
    expect(newest).toMatchObject({ current: true, user_agent: `Laptop/${"x".repeat(249)}` });
    expect(newest.user_agent).toHaveLength(256);
    expect(oldest).toMatchObject({ current: false, user_agent: "Phone/1.0" });
    expect(newest.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(oldest.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(newest.ip_hash).not.toBe(oldest.ip_hash);
    expect(newest.last_used_at).toBe(newest.created_at);
    // The phone's own view marks the phone's session as current.
    const fromPhone = await sessionsOf(phone.access_token);
    expect(fromPhone.find((s) => s.current)?.id).toBe(oldest.id);

    // A refresh is a use: last_used_at moves, the session keeps its id, the new access token is still current.
    const rotated = await refresh(t.slug, phone.refresh_token, { "user-agent": "Phone/1.1" });
    expect(rotated.status).toBe(200);
    const after = await sessionsOf(rotated.body.access_token as string);
    const phoneAfter = after.find((s) => s.id === oldest.id);
    expect(phoneAfter).toMatchObject({ current: true, user_agent: "Phone/1.1", created_at: oldest.created_at });
    expect(Date.parse(phoneAfter?.last_used_at ?? "")).toBeGreaterThanOrEqual(Date.parse(oldest.created_at));
  });

  it("revoking one session stops its refresh token and access token at once, and no other", async () => {
    const t = await newTenant("sess");
    const u = await newUser(t.slug);
    const other = await login(t.slug, u.email);
    // Warm this isolate's user cache with both sessions live.
    expect((await call("/api/v1/me", { token: other.access_token })).status).toBe(200);
    const victim = (await sessionsOf(other.access_token)).find((s) => s.current);
    const revoked = await call(`/api/v1/me/sessions/${victim?.id}`, { method: "DELETE", token: u.access_token });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(204);
    expect((await call("/api/v1/me", { token: other.access_token })).status).toBe(401);
    expect((await refresh(t.slug, other.refresh_token)).status).toBe(401);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(200);
    expect((await sessionsOf(u.access_token)).map((s) => s.id)).not.toContain(victim?.id);
    // Gone now: a second revocation finds nothing.
    const again = await call(`/api/v1/me/sessions/${victim?.id}`, { method: "DELETE", token: u.access_token });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("not_found");

    const [event] = await auditOf(t.adminKey, "identity.session.revoked");
    expect(event).toMatchObject({ actor: { kind: "user", id: u.id }, target: `${t.id}/user/${u.id}` });
    expect(event?.detail).toEqual({ session_id: victim?.id, by: "self" });
  });

  it("another user's session id answers 404 and stays live", async () => {
    const t = await newTenant("sess");
    const a = await newUser(t.slug);
    const b = await newUser(t.slug);
    const bSession = (await sessionsOf(b.access_token))[0];
    const res = await call(`/api/v1/me/sessions/${bSession?.id}`, { method: "DELETE", token: a.access_token });
    expect(res.status).toBe(404);
    expect((await call("/api/v1/me", { token: b.access_token })).status).toBe(200);
    expect((await refresh(t.slug, b.refresh_token)).status).toBe(200);
  });

  it("revoke-others keeps only the caller's session", async () => {
    const t = await newTenant("sess");
    const u = await newUser(t.slug);
    const second = await login(t.slug, u.email);
    const third = await login(t.slug, u.email);
    const res = await call("/api/v1/me/sessions/revoke-others", { method: "POST", token: third.access_token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ revoked: 2 });
    const left = await sessionsOf(third.access_token);
    expect(left).toHaveLength(1);
    expect(left[0]?.current).toBe(true);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(401);
    expect((await refresh(t.slug, second.refresh_token)).status).toBe(401);
    expect((await refresh(t.slug, third.refresh_token)).status).toBe(200);
  });

  it("an API key has no sessions: 403", async () => {
    const t = await newTenant("sess");
    const res = await call("/api/v1/me/sessions", { token: t.adminKey });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
    expect(res.body.detail).toBe("this route does not accept an API key");
    const revoke = await call("/api/v1/me/sessions/revoke-others", { method: "POST", token: t.adminKey });
    expect(revoke.status).toBe(403);
  });
});

describe("a user's sessions, for an administrator", () => {
  it("lists, revokes one and revokes all with identity.user.update", async () => {
    const t = await newTenant("asess");
    const u = await newUser(t.slug);
    const second = await login(t.slug, u.email);
    const listed = await sessionsOf(t.adminKey, `/api/v1/admin/users/${u.id}/sessions`);
    expect(listed).toHaveLength(2);
    expect(listed.every((s) => s.current === false)).toBe(true);
    const target = listed.find((s) => s.id !== undefined);
    const one = await call(`/api/v1/admin/users/${u.id}/sessions/${target?.id}`, {
      method: "DELETE",
      token: t.adminKey,
    });
    expect(one.status, JSON.stringify(one.body)).toBe(204);
    expect(await sessionsOf(t.adminKey, `/api/v1/admin/users/${u.id}/sessions`)).toHaveLength(1);
    const all = await call(`/api/v1/admin/users/${u.id}/sessions/revoke-all`, { method: "POST", token: t.adminKey });
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ revoked: 1 });
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(401);
    expect((await call("/api/v1/me", { token: second.access_token })).status).toBe(401);
    expect((await refresh(t.slug, u.refresh_token)).status).toBe(401);
    expect((await refresh(t.slug, second.refresh_token)).status).toBe(401);
    const events = await auditOf(t.adminKey, "identity.session.revoked", 2);
    expect(events.map((e) => e.detail?.by)).toEqual(["admin", "admin"]);
    expect(events.every((e) => e.actor.kind === "api_key")).toBe(true);

    const unknownUser = await call("/api/v1/admin/users/nobody/sessions", { token: t.adminKey });
    expect(unknownUser.status).toBe(404);
    const unknownSession = await call(`/api/v1/admin/users/${u.id}/sessions/nope`, {
      method: "DELETE",
      token: t.adminKey,
    });
    expect(unknownSession.status).toBe(404);
  });

  it("needs identity.user.update: a member is refused", async () => {
    const t = await newTenant("asess");
    const member = await newUser(t.slug);
    const victim = await newUser(t.slug);
    const list = await call(`/api/v1/admin/users/${victim.id}/sessions`, { token: member.access_token });
    expect(list.status).toBe(403);
    const all = await call(`/api/v1/admin/users/${victim.id}/sessions/revoke-all`, {
      method: "POST",
      token: member.access_token,
    });
    expect(all.status).toBe(403);
    expect((await call("/api/v1/me", { token: victim.access_token })).status).toBe(200);
  });

  it("only an owner signs out an owner: an admin is refused and recorded, an owner may", async () => {
    const t = await newTenant("asess");
    const owner = await newUser(t.slug);
    const admin = await newUser(t.slug);
    for (const [id, role] of [
      [owner.id, "owner"],
      [admin.id, "admin"],
    ] as const) {
      const granted = await call(`/api/v1/admin/users/${id}/roles/${role}`, { method: "PUT", token: t.adminKey });
      expect(granted.status).toBe(204);
    }
    const adminTokens = await login(t.slug, admin.email);
    const ownerTokens = await login(t.slug, owner.email);
    const refusedRes = await call(`/api/v1/admin/users/${owner.id}/sessions/revoke-all`, {
      method: "POST",
      token: adminTokens.access_token,
    });
    expect(refusedRes.status).toBe(403);
    expect(refusedRes.body.detail).toContain("only an owner");
    const [denial] = await auditOf(t.adminKey, "authz.denied");
    expect(denial?.detail).toMatchObject({ rule: "owner_only" });
    expect((await call("/api/v1/me", { token: ownerTokens.access_token })).status).toBe(200);

    // The owner signs the admin out.
    const byOwner = await call(`/api/v1/admin/users/${admin.id}/sessions/revoke-all`, {
      method: "POST",
      token: ownerTokens.access_token,
    });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toEqual({ revoked: 2 });
    expect((await call("/api/v1/me", { token: adminTokens.access_token })).status).toBe(401);
  });
});
