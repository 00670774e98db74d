import { env } from "cloudflare:workers";
import { Secret, TOTP } from "otpauth";
import { expect } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { type ManualClock, manualClock } from "../../src/kernel/clock";
import { type PolicyOverrides, policiesOff } from "../../src/kernel/ratelimit/policies";
import { audit } from "../../src/modules/audit";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, type Entry, PASSWORD } from "./helpers";

/** A code of `secret` at `clock`'s time plus `stepsAhead` time steps, from the same library the Worker uses. */
export function codeAt(secret: string, clock: ManualClock, stepsAhead = 0): string {
  const totp = new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) });
  return totp.generate({ timestamp: clock.now().getTime() + stepsAhead * 30_000 });
}

/**
 * The platform in-process with a manual clock (codes and challenges expire by
 * moving it) and rate limits off except `limits`. A limit named here keeps its
 * state past the test (other files' tests share storage): limit what the test
 * owns (its user, its tenant), not the client address, which every in-process
 * request shares.
 */
export function platformAt(start: string, limits: PolicyOverrides = {}) {
  const clock = manualClock(start);
  const { fetch } = testApp(
    [system(), tenants(), identity(), audit()],
    { RATE_LIMITS: JSON.stringify({ ...policiesOff(), ...limits }) },
    MIGRATIONS,
    clock,
  );
  const call = callerOf(fetch);
  const tenant = async (prefix: string) => {
    const slug = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
    const res = await call("/api/v1/platform/tenants", {
      token: env.PLATFORM_ROOT_KEY,
      body: { slug, name: `Acme ${slug}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: String(res.body.id), slug, name: `Acme ${slug}`, adminKey: String(res.body.admin_key) };
  };
  const login = (slug: string, email: string) =>
    call("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
  /** A registered user and an access token of theirs. */
  const user = async (slug: string, email: string) => {
    const reg = await call("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name: "Ada" } });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const res = await login(slug, email);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { id: String(reg.body.id), email, token: String(res.body.access_token) };
  };
  /** Enrols and confirms two-factor for the token's user; returns the secret and the recovery codes. */
  const enrol = async (token: string) => {
    const started = await call("/api/v1/me/two-factor", { token, method: "POST" });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const secret = String(started.body.secret);
    const confirmed = await call("/api/v1/me/two-factor/confirm", { token, body: { code: codeAt(secret, clock) } });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    return { secret, recoveryCodes: confirmed.body.recovery_codes as string[], started: started.body };
  };
  /**
   * The tenant's audit entries with `action`, newest first, once there are at
   * least `count` (the queue delivers after the response; gives up after 10 s).
   * Read through this app: its principals' rate-limit state lives at the manual clock's time.
   */
  const auditOf = async (token: string, action: string, count = 1) => {
    for (let i = 0; ; i++) {
      const res = await call(`/api/v1/admin/audit?action=${action}&limit=100`, { token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const items = res.body.items as Entry[];
      if (items.length >= count || i >= 200) return items;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { clock, call, fetch, tenant, login, user, enrol, auditOf };
}
