// The two_factor limit counts wrong codes, not right ones: a right code gives its try back, as a
// right password does for `login` (docs/identity.md, "Throttling"). A right code is one the
// directory accepted, which a guesser cannot send, so the wrong tries stay at 5 per 5 minutes.
import { describe, expect, it } from "vitest";
import { codeAt, platformAt } from "./two-factor-helpers";

const POLICY = { two_factor: { limit: 5, period_s: 300, burst: 5, max_limit: 5 } };

describe("two-factor codes and the two_factor limit", () => {
  it("does not lock out a user who mistypes twice and then signs in correctly, again and again, within 5 minutes", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-02-01T00:00:10.000Z", POLICY);
    const t = await tenant("tfa-refund");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token);
    const challenge = (await login(t.slug, ada.email)).body.challenge;
    for (let i = 0; i < 2; i++) {
      const wrong = await call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code: "000000" } });
      expect(wrong.status).toBe(401);
    }
    // Five sign-ins 30 s apart (each code a new time step): 150 s, well inside the 5 minutes.
    for (let i = 1; i <= 5; i++) {
      clock.advance(30_000);
      const fresh = (await login(t.slug, ada.email)).body.challenge;
      const done = await call("/api/v1/auth/two-factor", {
        tenant: t.slug,
        body: { challenge: fresh, code: codeAt(secret, clock) },
      });
      expect(done.status, `sign-in ${i}: ${JSON.stringify(done.body)}`).toBe(200);
      // The answer's RateLimit shows the try given back: of 5, at most the two wrong codes are spent.
      const left = Number(/"two_factor";r=(\d+);/.exec(done.headers.get("ratelimit") ?? "")?.[1]);
      expect(left, `sign-in ${i}`).toBeGreaterThanOrEqual(3);
    }
  });

  it("buys a guesser nothing: right codes between wrong ones leave 5 wrong codes per 5 minutes", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-02-02T00:00:10.000Z", POLICY);
    const t = await tenant("tfa-refund-guess");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token);
    const guess = async (challenge: unknown) =>
      (await call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code: "000000" } })).status;
    const challenge = (await login(t.slug, ada.email)).body.challenge;
    expect([await guess(challenge), await guess(challenge)]).toEqual([401, 401]);
    // The user signs in meanwhile (the next step's code: the clock stands still in this test).
    const fresh = (await login(t.slug, ada.email)).body.challenge;
    const right = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: fresh, code: codeAt(secret, clock, 1) },
    });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    // Three more wrong codes make five; the sixth try is refused, a right code as much as a guess.
    expect([await guess(challenge), await guess(challenge), await guess(challenge)]).toEqual([401, 401, 401]);
    expect(await guess(challenge)).toBe(429);
    const late = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: (await login(t.slug, ada.email)).body.challenge, code: codeAt(secret, clock, 1) },
    });
    expect(late.status).toBe(429);
  });

  it("does not give back a replayed code's try: only a code the directory accepts is a right one", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2032-02-03T00:00:10.000Z", POLICY);
    const t = await tenant("tfa-refund-replay");
    const ada = await user(t.slug, "ada@example.com");
    const { secret } = await enrol(ada.token);
    const code = codeAt(secret, clock, 1);
    const first = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: (await login(t.slug, ada.email)).body.challenge, code },
    });
    expect(first.status).toBe(200);
    // Someone who saw that code sends it again: a replay, refused and counted, five times over.
    const replays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call("/api/v1/auth/two-factor", {
        tenant: t.slug,
        body: { challenge: (await login(t.slug, ada.email)).body.challenge, code },
      });
      replays.push(res.status);
    }
    expect(replays).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
