// "Revocation reaches access tokens within the contract's bound": a session
// revoked where this isolate did not see it (another isolate, modelled by
// calling the directory directly, so nothing here is evicted) stops its access
// tokens once the user cache's 10 s have passed on the platform's clock. The
// clock is a manual one: the test moves it instead of waiting.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { identity } from "../../src/modules/identity";
import { USER_CACHE_TTL_MS } from "../../src/modules/identity/authenticators";
import { directory } from "../../src/modules/identity/directory/contract";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, PASSWORD } from "./helpers";

function platformAt(start: string) {
  const clock = manualClock(start);
  const { fetch } = testApp([system(), tenants(), identity()], {}, MIGRATIONS, clock);
  const call = callerOf(fetch);
  return { clock, call };
}

describe("a revoked session's access tokens", () => {
  it("are refused within 10 s by an isolate that did not revoke it, and at once by one that did", async () => {
    const { clock, call } = platformAt("2031-03-01T00:00:00.000Z");
    const slug = `bound-${crypto.randomUUID().slice(0, 8)}`;
    const created = await call("/api/v1/platform/tenants", {
      token: env.PLATFORM_ROOT_KEY,
      body: { slug, name: slug },
    });
    expect(created.status).toBe(201);
    const tenantId = String(created.body.id);
    const email = "ada@example.com";
    const registered = await call("/api/v1/auth/register", {
      tenant: slug,
      body: { email, password: PASSWORD, name: "A" },
    });
    const userId = String(registered.body.id);
    const signIn = async () => {
      const res = await call("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
      expect(res.status).toBe(200);
      return String(res.body.access_token);
    };
    const stolen = await signIn();
    const kept = await signIn();
    const listed = await call("/api/v1/me/sessions", { token: stolen });
    const items = listed.body.items as { id: string; current: boolean }[];
    const sid = items.find((s) => s.current)?.id ?? "";
    expect(items).toHaveLength(2);

    // This isolate now trusts the user's live sessions for up to 10 s.
    expect((await call("/api/v1/me", { token: stolen })).status).toBe(200);
    const revoked = await directory(env, tenantId).revokeSession({
      ctx: { now: clock.now().toISOString(), actor: { kind: "user", id: userId }, requestId: null },
      userId,
      sessionId: sid,
    });
    expect(revoked).toEqual({ ok: true, value: null });
    // Still inside the bound: the stale view is what the contract allows, and no more.
    clock.advance(USER_CACHE_TTL_MS - 1);
    expect((await call("/api/v1/me", { token: stolen })).status).toBe(200);
    clock.advance(1);
    expect((await call("/api/v1/me", { token: stolen })).status).toBe(401);
    expect((await call("/api/v1/me", { token: kept })).status).toBe(200);
    expect(USER_CACHE_TTL_MS).toBeLessThanOrEqual(10_000);

    // Through the API this isolate forgets the user at once: no wait at all.
    const keptSid = ((await call("/api/v1/me/sessions", { token: kept })).body.items as { id: string }[])[0]?.id;
    expect((await call(`/api/v1/me/sessions/${keptSid}`, { method: "DELETE", token: kept })).status).toBe(204);
    expect((await call("/api/v1/me", { token: kept })).status).toBe(401);
  });
});
