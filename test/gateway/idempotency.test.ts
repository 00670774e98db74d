// Idempotency-Key: a repeat gets the first response without running the
// handler again, concurrent repeats wait for the first, another body is 422,
// a secret is never replayed, and keys expire after 24 h.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { hash, sha256Hex } from "../../src/kernel/crypto";
import { requestFingerprint } from "../../src/kernel/idempotency/fingerprint";
import { gateway } from "./helpers";

const post = { title: "Once", content: "only once" };

describe("Idempotency-Key", () => {
  it("replays the first response to a repeat, and creates nothing twice", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const send = (body = post) =>
      call("/api/v1/blog/posts", { token: t.adminKey, body, headers: { "idempotency-key": "create-once-1" } });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    const other = await send({ title: "Twice?", content: "another body" });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
    // One post: the writer holds version 1 and nothing else was created under that key.
    const strong = await call(`/api/v1/blog/posts/${String(first.body.id)}?consistency=strong`, { token: t.adminKey });
    expect(strong.body).toMatchObject({ title: "Once", version: 1 });
  });

  it("keeps a keyed fingerprint of the body, not a plain hash a reader of the store could try passwords against", async () => {
    // Some bodies kept under a key hold a password (POST /me/sso/link, change-password).
    const { call, tenant } = gateway();
    const t = await tenant();
    const me = await call("/api/v1/me", { token: t.adminKey });
    const body = { title: "Keyed", content: "a body" };
    const res = await call("/api/v1/blog/posts", {
      token: t.adminKey,
      body,
      headers: { "idempotency-key": "keyed-1" },
    });
    expect(res.status).toBe(201);
    const scope = `${t.id}:api_key:${String((me.body.key as { id: string }).id)}`;
    const stored = await runInDurableObject(env.IDEMPOTENCY.getByName(scope), (_, state) =>
      state.storage.sql.exec<{ fingerprint: string }>("select fingerprint from records").toArray(),
    );
    const bodySha256 = await hash.sha256(new TextEncoder().encode(JSON.stringify(body)));
    const plain = await sha256Hex(`POST\n/api/v1/blog/posts\n${await sha256Hex(JSON.stringify(body))}`);
    expect(stored.map((r) => r.fingerprint)).not.toContain(plain);
    expect(stored).toEqual([
      { fingerprint: requestFingerprint(env.PLATFORM_ROOT_KEY, "POST", "/api/v1/blog/posts", bodySha256) },
    ]);
  });

  it("keeps no error: a rejected body, fixed, runs under the same key", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const send = (body: unknown) =>
      call("/api/v1/blog/posts", { token: t.adminKey, body, headers: { "idempotency-key": "fix-and-retry" } });
    const rejected = await send({ title: "" });
    expect(rejected.status).toBe(400);
    expect(rejected.headers.get("idempotent-replayed")).toBeNull();
    const fixed = await send(post);
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
    const again = await send(post);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(fixed.body.id);
  });

  it("makes concurrent repeats wait for the first: one creation, the same answer for all", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        call("/api/v1/blog/posts", { token: t.adminKey, body: post, headers: { "idempotency-key": "race-1" } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(5);
  });

  it("never stores or replays a secret: a repeated key creation is 409, and no second key exists", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const create = () =>
      call("/api/v1/admin/api-keys", {
        token: t.adminKey,
        body: { name: "deploy", scopes: ["blog.post.read"] },
        headers: { "idempotency-key": "key-once" },
      });
    const first = await create();
    expect(first.status).toBe(201);
    const again = await create();
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).not.toContain(String(first.body.key));
    const keys = await call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
    expect((keys.body.items as { name: string }[]).filter((k) => k.name === "deploy")).toHaveLength(1);
  });

  it("holds for the platform root key too: a retried recovery mints no second admin key, a reused key is 422", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const root = String(env.PLATFORM_ROOT_KEY);
    // The platform's keys share one scope across the suite's files: each test names its own.
    const idem = `recover-${crypto.randomUUID()}`;
    const recover = () =>
      call(`/api/v1/platform/tenants/${t.id}/admin-keys`, {
        token: root,
        body: { name: "recovery" },
        headers: { "idempotency-key": idem },
      });
    const first = await recover();
    expect(first.status).toBe(201);
    const again = await recover();
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).not.toContain(String(first.body.key));
    const keys = await call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
    expect((keys.body.items as { name: string }[]).filter((k) => k.name === "recovery")).toHaveLength(1);

    const create = (slug: string) =>
      call("/api/v1/platform/tenants", {
        token: root,
        body: { slug, name: slug },
        headers: { "idempotency-key": idem },
      });
    const slug = `idem-${crypto.randomUUID().slice(0, 8)}`;
    expect((await create(slug)).status).toBe(201);
    const other = await create(`${slug}-b`);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
  });

  it("scopes keys to the principal and the path, and forgets them after 24 hours", async () => {
    const clock = manualClock("2031-01-01T00:00:00.000Z");
    const { call, tenant } = gateway({}, {}, clock);
    const t = await tenant();
    const user = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "writer", scopes: ["blog.post.create", "blog.post.read"] },
    });
    const send = (token: string, body = post) =>
      call("/api/v1/blog/posts", { token, body, headers: { "idempotency-key": "shared" } });
    const mine = await send(t.adminKey);
    const theirs = await send(String(user.body.key));
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    clock.advance(24 * 3_600_000 + 1000);
    const later = await send(t.adminKey, { title: "A day later", content: "" });
    expect(later.status).toBe(201);
    expect(later.body.title).toBe("A day later");
  });

  it("refuses a malformed key", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const res = await call("/api/v1/blog/posts", { token: t.adminKey, body: post, headers: { "idempotency-key": "" } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
  });
});
