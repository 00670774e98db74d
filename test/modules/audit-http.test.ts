import { SELF } from "cloudflare:test";
import * as ed from "@noble/ed25519";
import { describe, expect, it } from "vitest";
import { type AuditCheckpoint, type AuditEntry, firstBroken } from "../../src/modules/audit/chain";
import {
  auditSettled,
  call,
  login,
  newTenant,
  newUser,
  ORIGIN,
  PASSWORD,
  register,
  spentLongAgo,
} from "../identity/helpers";

type Page = { items: AuditEntry[]; next_cursor: string | null };

const entries = async (token: string, query = "") =>
  (await call(`/api/v1/admin/audit${query}`, { token })).body as unknown as Page;

/** Waits until the log holds `count` entries with `action` (the queue delivers asynchronously). */
async function waitFor(token: string, action: string, count = 1): Promise<AuditEntry[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { items } = await entries(token, `?action=${action}&limit=100`);
    if (items.length >= count || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exportLines(token: string): Promise<{ lines: unknown[]; contentType: string | null }> {
  const res = await SELF.fetch(`${ORIGIN}/api/v1/admin/audit/export`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return {
    lines: text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown),
    contentType: res.headers.get("content-type"),
  };
}

describe("audit log over HTTP", () => {
  it("records each security and domain action once, in order, and exports and verifies the chain", async () => {
    const t = await newTenant("audit");
    const admin = t.adminKey;
    const steps: { action: string; seq: number }[] = [];
    // Each action adds exactly one entry of its type; its seq is recorded to check the order.
    // Counted after an audit settle marker (the marker users' registrations left out): a second
    // entry a batch late would otherwise pass. The step's marker also settles the next step's
    // "before" (an earlier entry still on its way would count as that step's own).
    const markers = new Set<string>();
    const ofAction = async (action: string, count: number) =>
      (await waitFor(admin, action, count)).filter(
        (e) => ![...markers].some((id) => e.target?.endsWith(`/user/${id}`)),
      );
    const step = async (action: string, act: () => Promise<unknown>) => {
      const before = (await ofAction(action, 0)).length;
      await act();
      markers.add(await auditSettled(t.slug, admin));
      const after = await ofAction(action, before + 1);
      expect(after.length, action).toBe(before + 1);
      steps.push({ action, seq: after[0]?.seq ?? 0 });
    };

    let userId = "";
    await step("identity.user.registered", async () => {
      userId = (await register(t.slug, "audited@example.com")).id as string;
    });
    let tokens = { access_token: "", refresh_token: "" };
    await step("identity.user.logged_in", async () => {
      tokens = await login(t.slug, "audited@example.com");
    });
    await step("identity.login.failed", async () => {
      const res = await call("/api/v1/auth/login", {
        tenant: t.slug,
        body: { email: "audited@example.com", password: `${PASSWORD}!` },
      });
      expect(res.status).toBe(401);
    });
    const spent = tokens.refresh_token;
    await step("identity.token.refreshed", async () => {
      const res = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: spent } });
      expect(res.status).toBe(200);
    });
    await step("identity.token.family_revoked", async () => {
      await spentLongAgo(t.id);
      const res = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: spent } });
      expect(res.status).toBe(401);
    });
    let keyId = "";
    await step("identity.key.created", async () => {
      const res = await call("/api/v1/admin/api-keys", {
        token: admin,
        body: { name: "ci", scopes: ["blog.post.read"] },
      });
      expect(res.status).toBe(201);
      keyId = res.body.id as string;
    });
    await step("identity.key.revoked", async () => {
      expect((await call(`/api/v1/admin/api-keys/${keyId}`, { method: "DELETE", token: admin })).status).toBe(204);
    });
    await step("identity.role.granted", async () => {
      const res = await call(`/api/v1/admin/users/${userId}/roles/viewer`, { method: "PUT", token: admin });
      expect(res.status).toBe(204);
    });
    const author = await newUser(t.slug, "author@example.com");
    await step("blog.post.created", async () => {
      const res = await call("/api/v1/blog/posts", { token: author.access_token, body: { title: "T", content: "C" } });
      expect(res.status).toBe(201);
    });

    // Oldest first in the export: the actions appear in the order they were done, each once.
    const { lines, contentType } = await exportLines(admin);
    expect(contentType).toContain("application/x-ndjson");
    const last = lines.at(-1) as { checkpoint: AuditCheckpoint; tenant_id: string };
    expect(last.tenant_id).toBe(t.id);
    const chain = lines.slice(0, -1) as AuditEntry[];
    expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(firstBroken(chain)).toBeNull();
    expect(steps.map((st) => st.seq)).toEqual([...steps.map((st) => st.seq)].sort((a, b) => a - b));
    for (const st of steps) expect(chain[st.seq - 1]?.action).toBe(st.action);
    const registered = chain.find(
      (e) => e.action === "identity.user.registered" && !markers.has(String(e.target).split("/").at(-1) ?? ""),
    );
    expect(registered).toMatchObject({ target: `${t.id}/user/${userId}`, actor: { kind: "anonymous" } });
    expect(registered?.request_id).toEqual(expect.any(String));
    // The refresh-token reuse and the admin's key actions are attributed to their actors.
    expect(chain.find((e) => e.action === "identity.key.revoked")?.actor.kind).toBe("api_key");
    expect(new Set(chain.map((e) => e.request_id).filter(Boolean)).size).toBeGreaterThan(5);

    // The checkpoint covers the whole export and verifies against the published JWKS, checked with @noble/ed25519.
    const lastEntry = chain.at(-1) as AuditEntry;
    expect(last.checkpoint).toMatchObject({ seq: lastEntry.seq, hash: lastEntry.hash });
    const jwks = (await call("/.well-known/jwks.json")).body as { keys: { kid: string; x: string }[] };
    const jwk = jwks.keys.find((k) => k.kid === last.checkpoint.kid);
    expect(jwk).toBeDefined();
    const b64 = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
    // Version 2: over the tenant, seq, hash and signed_at, behind its prefix.
    expect(last.checkpoint.v).toBe(2);
    const signed = (tenant: string) =>
      new TextEncoder().encode(
        `plinth-audit-checkpoint/v2:${tenant}:${last.checkpoint.seq}:${last.checkpoint.hash}:${last.checkpoint.signed_at}`,
      );
    expect(await ed.verifyAsync(b64(last.checkpoint.signature), signed(t.id), b64(jwk?.x ?? ""))).toBe(true);
    expect(await ed.verifyAsync(b64(last.checkpoint.signature), signed("other"), b64(jwk?.x ?? ""))).toBe(false);

    const verified = await call("/api/v1/admin/audit/verify", { token: admin });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      ok: true,
      entries: chain.length,
      last_seq: lastEntry.seq,
      last_hash: lastEntry.hash,
      // Stored at the export's seq; the export's own is its head signed as of the export.
      checkpoint: { v: 2, seq: last.checkpoint.seq, hash: last.checkpoint.hash },
    });
    expect(verified.body).not.toHaveProperty("broken_seq");
  }, 60_000);

  it("filters by actor, action and an inclusive time range, newest first, with cursor pagination", async () => {
    const t = await newTenant("auditf");
    const u = await newUser(t.slug, "filters@example.com");
    for (const title of ["a", "b", "c"]) {
      expect((await call("/api/v1/blog/posts", { token: u.access_token, body: { title, content: "x" } })).status).toBe(
        201,
      );
    }
    const created = await waitFor(t.adminKey, "blog.post.created", 3);
    expect(created).toHaveLength(3);
    expect(created.map((e) => e.seq)).toEqual([...created.map((e) => e.seq)].sort((a, b) => b - a));

    const mine = await entries(t.adminKey, `?actor=${u.id}&limit=100`);
    expect(mine.items.length).toBeGreaterThanOrEqual(3);
    expect(mine.items.every((e) => e.actor.id === u.id)).toBe(true);

    const middle = created[1] as AuditEntry;
    const exact = await entries(t.adminKey, `?action=blog.post.created&since=${middle.at}&until=${middle.at}`);
    expect(exact.items.map((e) => e.seq)).toContain(middle.seq);
    expect(exact.items.every((e) => e.at === middle.at)).toBe(true);

    const page1 = await entries(t.adminKey, "?action=blog.post.created&limit=2");
    expect(page1.items).toHaveLength(2);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = await entries(t.adminKey, `?action=blog.post.created&limit=2&cursor=${page1.next_cursor}`);
    expect(page2.items.map((e) => e.seq)).toEqual([created[2]?.seq]);
    expect(page2.next_cursor).toBeNull();

    expect((await call("/api/v1/admin/audit?since=yesterday", { token: t.adminKey })).status).toBe(400);
  });

  it("refuses principals without admin.audit.read, naming the permission", async () => {
    const t = await newTenant("auditz");
    const member = await newUser(t.slug, "member@example.com");
    for (const path of ["/api/v1/admin/audit", "/api/v1/admin/audit/export", "/api/v1/admin/audit/verify"]) {
      const res = await call(path, { token: member.access_token });
      expect(res.status, path).toBe(403);
      expect(res.body.detail).toBe("missing permission admin.audit.read");
      expect((await call(path, { tenant: t.slug })).status).toBe(401);
    }
    // Each refusal is recorded (best effort, straight to the queue) as authz.denied by the member.
    const denied = await waitFor(t.adminKey, "authz.denied", 3);
    expect(denied).toHaveLength(3);
    expect(denied.every((e) => e.actor.kind === "user" && e.actor.id === member.id)).toBe(true);
    expect(denied.every((e) => e.request_id !== null)).toBe(true);
    // Another tenant's admin sees only its own log.
    const other = await newTenant("auditz2");
    const theirs = await entries(other.adminKey, "?limit=100");
    expect(theirs.items.some((e) => e.target?.includes(member.id))).toBe(false);
  });

  it("records an ownership refusal of the command bus as authz.denied with the missing permission", async () => {
    const t = await newTenant("auditown");
    const author = await newUser(t.slug, "author@example.com");
    const other = await newUser(t.slug, "other@example.com");
    const created = await call("/api/v1/blog/posts", {
      token: author.access_token,
      body: { title: "Mine", content: "Only I may edit this" },
    });
    expect(created.status).toBe(201);
    const postId = (created.body as { id: string }).id;
    const res = await call(`/api/v1/blog/posts/${postId}`, {
      method: "PATCH",
      token: other.access_token,
      body: { title: "Theirs now" },
    });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("missing permission blog.post.update");
    const denied = await waitFor(t.adminKey, "authz.denied", 1);
    expect(denied).toHaveLength(1);
    expect(denied[0]?.actor).toEqual({ kind: "user", id: other.id });
  });

  it("keys each entry's ip_hash to the client address and the tenant, never the address itself", async () => {
    const t = await newTenant("auditip");
    const u = await newTenant("auditip2");
    const from = (ip: string) => ({ "cf-connecting-ip": ip });
    const attempt = async (slug: string, ip: string) => {
      const res = await call("/api/v1/auth/login", {
        tenant: slug,
        body: { email: "nobody@example.com", password: PASSWORD },
        headers: from(ip),
      });
      expect(res.status).toBe(401);
    };
    await attempt(t.slug, "203.0.113.7");
    await attempt(t.slug, "203.0.113.7");
    await attempt(t.slug, "198.51.100.1");
    await attempt(u.slug, "203.0.113.7");
    const mine = await waitFor(t.adminKey, "identity.login.failed", 3);
    const theirs = await waitFor(u.adminKey, "identity.login.failed", 1);
    const hashes = mine.map((e) => e.ip_hash);
    for (const h of [...hashes, theirs[0]?.ip_hash]) expect(h).toMatch(/^[0-9a-f]{32}$/);
    // Newest first: 198.51.100.1, then 203.0.113.7 twice.
    expect(hashes[1]).toBe(hashes[2]);
    expect(hashes[0]).not.toBe(hashes[1]);
    // The same address in another tenant hashes differently, so tenants cannot link it.
    expect(theirs[0]?.ip_hash).not.toBe(hashes[1]);
    const { lines } = await exportLines(t.adminKey);
    expect(JSON.stringify(lines)).not.toContain("203.0.113.7");
  });
});
