// Names people read in lists (users, tenants, API keys) refuse control characters and
// bidirectional overrides: a user registered as "Eve\r\nRole: owner" or "Eve\u202Enimda" reads
// as something else on an admin's screen. Emoji sequences with zero-width joiners stay valid.
import { describe, expect, it } from "vitest";
import { call, newTenant, newUser, PASSWORD, rootKey } from "./helpers";

const SPOOFS = [
  "Eve\r\nRole: owner",
  "Eve\u2028Role: owner",
  "Eve\u0000",
  "Eve\u202Enimda",
  "Eve\u2066x\u2069",
  "Tab\there",
];

describe("display names", () => {
  it("refuse control characters and bidirectional overrides wherever a name is taken", async () => {
    const t = await newTenant();
    const user = await newUser(t.slug);
    for (const name of SPOOFS) {
      const attempts: [string, { method?: string; token?: string; tenant?: string; body: unknown }][] = [
        [
          "/api/v1/auth/register",
          { tenant: t.slug, body: { email: `s${SPOOFS.indexOf(name)}@example.com`, password: PASSWORD, name } },
        ],
        [`/api/v1/users/${user.id}`, { method: "PATCH", token: user.access_token, body: { name } }],
        ["/api/v1/admin/api-keys", { token: t.adminKey, body: { name, scopes: ["blog.post.read"] } }],
        [
          "/api/v1/platform/tenants",
          { token: rootKey(), body: { slug: `n-${crypto.randomUUID().slice(0, 8)}`, name } },
        ],
        [`/api/v1/platform/tenants/${t.id}/admin-keys`, { token: rootKey(), body: { name } }],
      ];
      for (const [path, options] of attempts) {
        const res = await call(path, options);
        expect(res.status, `${path} ${JSON.stringify(name)}`).toBe(400);
        expect(JSON.stringify(res.body.errors)).toContain("must not contain control characters");
      }
    }
    // A family emoji (joined by U+200D) and accents are names like any other.
    const renamed = await call(`/api/v1/users/${user.id}`, {
      method: "PATCH",
      token: user.access_token,
      body: { name: "Zoë 👨‍👩‍👧" },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.name).toBe("Zoë 👨‍👩‍👧");
  });
});
