// Reset tokens, refresh reuse and authorship: authority that must end when it
// should, not when a cache or an older token says so.
import { describe, expect, it } from "vitest";
import {
  call,
  login,
  mailSettled,
  mailsTo,
  mailTo,
  newTenant,
  newUser,
  PASSWORD,
  register,
  spentLongAgo,
  tokenIn,
} from "./helpers";

const NEW_PASSWORD = "an entirely different passphrase";

const requestReset = async (slug: string, email: string) => {
  expect((await call("/api/v1/auth/password-reset", { tenant: slug, body: { email } })).status).toBe(202);
};
const confirm = (slug: string, token: string, password = NEW_PASSWORD) =>
  call("/api/v1/auth/password-reset/confirm", { tenant: slug, body: { token, password } });

describe("reset tokens", () => {
  it("a newer reset token voids the older one", async () => {
    const t = await newTenant("reset");
    await register(t.slug, "ada@example.com");
    await requestReset(t.slug, "ada@example.com");
    // The older token is the one mailed before the second request: the mailbox orders mail by
    // the millisecond it was queued, and two resets of the same millisecond in no telling order.
    const older = tokenIn(await mailTo(t.slug, "ada@example.com", "Reset"));
    await requestReset(t.slug, "ada@example.com");
    const both = (await mailsTo(t.slug, "ada@example.com", 2, "Reset")).map(tokenIn);
    expect(both).toHaveLength(2);
    expect(both).toContain(older);
    const newest = both.find((token) => token !== older) ?? "";
    const stale = await confirm(t.slug, older);
    expect(stale.status).toBe(400);
    expect(stale.body.code).toBe("invalid_token");
    expect((await confirm(t.slug, newest)).status).toBe(204);
    await login(t.slug, "ada@example.com", NEW_PASSWORD);
  });

  it("a password change voids outstanding reset tokens; using one voids the rest", async () => {
    const t = await newTenant("reset2");
    const u = await newUser(t.slug, "bo@example.com");
    await requestReset(t.slug, u.email);
    const [mail] = (await mailsTo(t.slug, u.email, 2)).filter((x) => x.subject.startsWith("Reset"));
    const change = await call("/api/v1/auth/change-password", {
      token: u.access_token,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(change.status).toBe(204);
    expect((await confirm(t.slug, tokenIn(mail ?? { body: "" }), "yet another passphrase!")).status).toBe(400);
    await login(t.slug, u.email, NEW_PASSWORD);
  });

  it("an unknown email is answered like a known one and mails nothing", async () => {
    const t = await newTenant("reset3");
    const res = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: "nobody@example.com" } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({});
    await mailSettled(t.slug);
    const box = await call("/api/v1/dev/mailbox?to=nobody@example.com", { tenant: t.slug });
    expect(box.body.items).toEqual([]);
  });
});

describe("refresh reuse", () => {
  it("revokes the family's access tokens at once in the isolate that saw the reuse", async () => {
    const t = await newTenant("reuse");
    const u = await newUser(t.slug);
    // Warm this isolate's caches with the session.
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(200);
    const rotated = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(rotated.status).toBe(200);
    const next = rotated.body.access_token as string;
    expect((await call("/api/v1/me", { token: next })).status).toBe(200);
    await spentLongAgo(t.id);
    const replay = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(replay.status).toBe(401);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(401);
    expect((await call("/api/v1/me", { token: next })).status).toBe(401);
  });
});

describe("authorship", () => {
  it("a member stripped of every role can no longer edit, publish or delete their own post", async () => {
    const t = await newTenant("author");
    const u = await newUser(t.slug);
    const post = await call("/api/v1/blog/posts", { token: u.access_token, body: { title: "Mine", content: "x" } });
    expect(post.status).toBe(201);
    const path = `/api/v1/blog/posts/${post.body.id as string}`;
    expect((await call(path, { method: "PATCH", token: u.access_token, body: { title: "Still mine" } })).status).toBe(
      200,
    );
    const revoke = await call(`/api/v1/admin/users/${u.id}/roles/member`, { method: "DELETE", token: t.adminKey });
    expect(revoke.status).toBe(204);
    const edit = await call(path, { method: "PATCH", token: u.access_token, body: { title: "Not any more" } });
    expect(edit.status).toBe(403);
    expect(edit.body.detail).toBe("missing permission blog.post.update");
    expect((await call(`${path}/publish`, { method: "POST", token: u.access_token })).status).toBe(403);
    expect((await call(path, { method: "DELETE", token: u.access_token })).status).toBe(403);
    const current = await call(`${path}?consistency=strong`, { token: t.adminKey });
    expect(current.body).toMatchObject({ title: "Still mine", status: "draft" });
  });
});
