// An origin taken out of a tenant's cors_origins stops writing at once, not when the browser's
// cached preflight (Access-Control-Max-Age) runs out: a request naming an Origin the tenant does
// not allow is refused before any route, while clients that send no Origin, same-origin pages
// and the origins still allowed are not touched.
import { describe, expect, it } from "vitest";
import { gateway } from "./helpers";

const app = "https://app.example.com";
const removed = "https://old.example.com";

async function setUp() {
  const gw = gateway({}, { PLATFORM_DOMAIN: "plinth.test" });
  const t = await gw.tenant("origin");
  const host = `http://${t.slug}.plinth.test`;
  const setOrigins = async (origins: string[]) => {
    const res = await gw.call(`${host}/api/v1/admin/settings`, {
      method: "PATCH",
      token: t.adminKey,
      body: { cors_origins: origins },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  await setOrigins([app, removed]);
  const created = await gw.call(`${host}/api/v1/blog/posts`, {
    token: t.adminKey,
    body: { title: "first", content: "x" },
  });
  expect(created.status).toBe(201);
  const post = `${host}/api/v1/blog/posts/${String(created.body.id)}`;
  const edit = (title: string, headers: Record<string, string> = {}) =>
    gw.call(post, { method: "PATCH", token: t.adminKey, body: { title }, headers });
  const title = async () => (await gw.call(`${post}?consistency=strong`, { token: t.adminKey })).body.title;
  return { ...gw, t, host, setOrigins, edit, title };
}

describe("a request from an origin the tenant does not allow", () => {
  it("is refused 403 origin_not_allowed once the origin is removed: the write from its cached preflight does not land", async () => {
    const { setOrigins, edit, title } = await setUp();
    expect((await edit("while allowed", { origin: removed })).status).toBe(200);
    await setOrigins([app]);
    // What the browser sends with the preflight it still holds: the write itself, naming its Origin.
    const refused = await edit("after removal", { origin: removed });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "origin_not_allowed", type: "/problems/origin_not_allowed" });
    expect(String(refused.body.detail)).toContain(removed);
    // Nothing to read for the page either: the refusal names no origin it may be read from.
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(await title()).toBe("while allowed");
  });

  it("leaves alone a client with no Origin, the tenant's own host, and the origins still allowed", async () => {
    const { setOrigins, edit, title, host } = await setUp();
    await setOrigins([app]);
    expect((await edit("curl")).status).toBe(200);
    expect(await title()).toBe("curl");
    // A page served from the tenant's host names that host as its Origin on a write.
    expect((await edit("same origin", { origin: host })).status).toBe(200);
    const allowed = await edit("allowed", { origin: app });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(app);
    expect(await title()).toBe("allowed");
  });

  it("refuses a credential-less request too, e.g. a login form posted from another site", async () => {
    const { call, host } = await setUp();
    const login = await call(`${host}/api/v1/auth/login`, {
      body: { email: "nobody@example.com", password: "a password that is long" },
      headers: { origin: "https://evil.example.com" },
    });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe("origin_not_allowed");
  });
});
