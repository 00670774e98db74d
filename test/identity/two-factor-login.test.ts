import { describe, expect, it } from "vitest";
import { codeAt, platformAt } from "./two-factor-helpers";

describe("login with two-factor on", () => {
  it("answers a challenge instead of tokens, and the challenge with a code answers the usual pair", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-01-01T00:00:10.000Z");
    const t = await tenant("tfa-login");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token);

    const first = await login(t.slug, ada.email);
    expect(first.status).toBe(200);
    expect(first.body.access_token).toBeUndefined();
    expect(first.body.refresh_token).toBeUndefined();
    expect(first.body).toMatchObject({ two_factor_required: true, expires_in: 300 });
    const challenge = String(first.body.challenge);
    expect(challenge).toMatch(/^plc_[A-Za-z0-9_-]{43}$/);

    // A wrong code leaves the challenge live; so does a malformed one (400).
    const wrong = await call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code: "000000" } });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 401, code: "unauthenticated" });
    expect((await call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge } })).status).toBe(400);

    clock.advance(30_000);
    const code = codeAt(secret, clock);
    const done = await call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code } });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(Object.keys(done.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    const me = await call("/api/v1/me", { token: String(done.body.access_token) });
    expect(me.body).toMatchObject({ kind: "user", user: { id: ada.id } });
    const refreshed = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: done.body.refresh_token },
    });
    expect(refreshed.status).toBe(200);

    // Single use: the spent challenge is refused even with a fresh code.
    clock.advance(30_000);
    const reuse = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge, code: codeAt(secret, clock) },
    });
    expect(reuse.status).toBe(401);
  });

  it("never accepts a code twice within its window (replay), nor an earlier step", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-01-02T00:00:10.000Z");
    const t = await tenant("tfa-replay");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token);
    const answer = async (code: string) => {
      const challenge = (await login(t.slug, ada.email)).body.challenge;
      return call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code } });
    };
    clock.advance(30_000);
    const code = codeAt(secret, clock);
    expect((await answer(code)).status).toBe(200);
    // Still inside its window (and the next step's): refused, it was used.
    expect((await answer(code)).status).toBe(401);
    clock.advance(20_000);
    expect((await answer(code)).status).toBe(401);
    // The previous step's code is inside the window too, but older than the one accepted.
    expect((await answer(codeAt(secret, clock, -1))).status).toBe(401);
    expect((await answer(codeAt(secret, clock, 1))).status).toBe(200);
  });

  it("takes each recovery code once, and counts them down", async () => {
    const { call, tenant, user, enrol, login } = platformAt("2032-01-03T00:00:10.000Z");
    const t = await tenant("tfa-recovery");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);
    const answer = async (recovery_code: string) => {
      const challenge = (await login(t.slug, ada.email)).body.challenge;
      return call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, recovery_code } });
    };
    const done = await answer(recoveryCodes[0] ?? "");
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await answer(recoveryCodes[0] ?? "")).status).toBe(401);
    expect((await answer("abcd-efgh-ijkl-mnop")).status).toBe(401);
    expect((await answer(recoveryCodes[9] ?? "")).status).toBe(200);
    const status = await call("/api/v1/me/two-factor", { token: String(done.body.access_token) });
    expect(status.body).toMatchObject({ enabled: true, recovery_codes_remaining: 8 });
  });

  it("refuses an expired challenge, and one of another tenant", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-01-04T00:00:10.000Z");
    const t = await tenant("tfa-expiry");
    const other = await tenant("tfa-other");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token);
    const challenge = (await login(t.slug, ada.email)).body.challenge;
    clock.advance(30_000);
    const elsewhere = await call("/api/v1/auth/two-factor", {
      tenant: other.slug,
      body: { challenge, code: codeAt(secret, clock) },
    });
    expect(elsewhere.status).toBe(401);
    clock.advance(300_000);
    const late = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge, code: codeAt(secret, clock) },
    });
    expect(late.status).toBe(401);
    expect(late.body.detail).toContain("log in again");
  });

  it("throttles codes per user: 5 per 5 minutes, then 429 with Retry-After, even for a right code and a new challenge", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-01-05T00:00:10.000Z", {
      two_factor: { limit: 5, period_s: 300, burst: 5, max_limit: 5 },
    });
    const t = await tenant("tfa-throttle");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token); // a right code: the confirmation gives its try back
    const challenge = (await login(t.slug, ada.email)).body.challenge;
    for (let i = 0; i < 5; i++) {
      const res = await call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code: "000000" } });
      expect(res.status).toBe(401);
    }
    clock.advance(30_000);
    const fresh = (await login(t.slug, ada.email)).body.challenge;
    const limited = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: fresh, code: codeAt(secret, clock) },
    });
    expect({ status: limited.status, code: limited.body.code }).toEqual({ status: 429, code: "rate_limited" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Disabling is throttled by the same policy.
    const del = await call("/api/v1/me/two-factor", {
      token: ada.token,
      method: "DELETE",
      body: { code: codeAt(secret, clock) },
    });
    expect(del.status).toBe(429);
    // Once the window has passed, the right code works.
    clock.advance(300_000);
    const later = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: (await login(t.slug, ada.email)).body.challenge, code: codeAt(secret, clock) },
    });
    expect(later.status, JSON.stringify(later.body)).toBe(200);
  });
});
