// A 401 tells a page, in WWW-Authenticate (RFC 6750 §3.1), whether the bearer token it sent was
// refused (`error="invalid_token"`, with an `error_description`) or it sent none (plain
// `Bearer`): an expired token and a missing one are told apart without parsing `detail`.
import { describe, expect, it } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { gateway } from "./helpers";

const HOUR = 3_600_000;
const challenge = (error: string, description: string) => `Bearer error="${error}", error_description="${description}"`;

describe("the challenge of a 401", () => {
  it("names no error when no token was sent, and invalid_token for an unknown, expired or malformed one", async () => {
    const clock = manualClock(systemClock.now());
    const { call, tenant } = gateway({}, {}, clock);
    const t = await tenant("challenge");
    const none = await call("/api/v1/me", { tenant: t.slug });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");

    const unknown = await call("/api/v1/me", { token: "plk_not-a-key", tenant: t.slug });
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe("unauthenticated");
    expect(unknown.headers.get("www-authenticate")).toBe(
      challenge("invalid_token", "the credential is unknown, expired or revoked"),
    );
    // The description is the problem's detail: one reason, said twice.
    expect(unknown.headers.get("www-authenticate")).toContain(`error_description="${String(unknown.body.detail)}"`);

    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: {
        name: "short",
        scopes: ["blog.post.read"],
        expires_at: new Date(clock.now().getTime() + HOUR).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    const key = String(created.body.key);
    expect((await call("/api/v1/me", { token: key })).status).toBe(200);
    clock.advance(HOUR + 1000);
    const expired = await call("/api/v1/me", { token: key });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toMatch(
      /^Bearer error="invalid_token", error_description="[^"]+"$/,
    );

    // Not `Bearer <token>` at all: the request is malformed, not the token.
    const malformed = await call("/api/v1/me", { tenant: t.slug, headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_request", error_description=/);
  });

  it("a wrong root key on a platform route is an invalid token too", async () => {
    const { call } = gateway();
    const wrong = await call("/api/v1/platform/tenants", { token: "not-the-root-key" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  });
});
