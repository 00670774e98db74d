// What the Location of an invitation answers once it is no longer pending: an admin script
// polls it to learn whether the invitee joined, so it must not turn into "not found" then.
import { describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { runJobNamed, testApp, walkingOnly } from "../helpers";
import { call, callerOf, mailTo, newTenant, tokenIn } from "./helpers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const later = (ms: number) => manualClock(new Date(systemClock.now().getTime() + ms));

type Tenant = Awaited<ReturnType<typeof newTenant>>;

/** Invites `email` as a viewer: the invitation's Location and its mailed token. */
async function invited(t: Tenant, email: string, send = call) {
  const res = await send("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles: ["viewer"] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const token = tokenIn(await mailTo(t.slug, email, "You are invited"));
  return { location: String(res.headers.get("location")), id: String(res.body.id), token };
}

describe("an invitation's status", () => {
  it("is pending while it waits, in the list and at its Location", async () => {
    const t = await newTenant();
    const { location } = await invited(t, "waiting@example.com");
    const one = await call(location, { token: t.adminKey });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body).toMatchObject({ status: "pending", status_changed_at: null, user_id: null });
    const listed = await call("/api/v1/admin/invitations", { token: t.adminKey });
    expect(listed.body.items).toEqual([one.body]);
  });

  it("is accepted once the invitee joined: when, and the account they joined with, never the token", async () => {
    const t = await newTenant();
    const { location, token } = await invited(t, "joined@example.com");
    const accepted = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: "a long enough passphrase", name: "Joined" },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const me = await call("/api/v1/me", { token: String(accepted.body.access_token) });
    const one = await call(location, { token: t.adminKey });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body).toMatchObject({
      email: "joined@example.com",
      status: "accepted",
      user_id: me.body.user && (me.body.user as { id: string }).id,
    });
    expect(Date.parse(String(one.body.status_changed_at))).toBeGreaterThanOrEqual(
      Date.parse(String(one.body.created_at)),
    );
    expect(JSON.stringify(one.body)).not.toMatch(/pli_|token/);
    // The list stays the pending ones; ?status= lists the others.
    expect((await call("/api/v1/admin/invitations", { token: t.adminKey })).body.items).toEqual([]);
    const joined = await call("/api/v1/admin/invitations?status=accepted", { token: t.adminKey });
    expect(joined.body.items).toEqual([one.body]);
  });

  it("is revoked after a revocation, and revoking it again is 409 conflict; an unknown id stays 404", async () => {
    const t = await newTenant();
    const { location } = await invited(t, "dropped@example.com");
    expect((await call(location, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    const one = await call(location, { token: t.adminKey });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body).toMatchObject({ status: "revoked", user_id: null });
    expect(typeof one.body.status_changed_at).toBe("string");
    const again = await call(location, { method: "DELETE", token: t.adminKey });
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: "conflict" });
    expect(String(again.body.detail)).toContain("revoked");
    const unknown = await call("/api/v1/admin/invitations/no-such-id", { method: "DELETE", token: t.adminKey });
    expect(unknown.status).toBe(404);
    const revoked = await call("/api/v1/admin/invitations?status=revoked", { token: t.adminKey });
    expect(revoked.body.items).toEqual([one.body]);
  });

  it("is expired at its expiry, which is when it changed; its token no longer works and revoking it is 409", async () => {
    const clock = manualClock(systemClock.now());
    const send = callerOf(testApp(modules, {}, MIGRATIONS, clock).fetch);
    const t = await newTenant();
    const { location, token } = await invited(t, "late@example.com", send);
    clock.advance(7 * DAY);
    const one = await send(location, { token: t.adminKey });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body).toMatchObject({ status: "expired", status_changed_at: one.body.expires_at, user_id: null });
    const expired = await send("/api/v1/admin/invitations?status=expired", { token: t.adminKey });
    expect(expired.body.items).toEqual([one.body]);
    const accept = await send("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: "a long enough passphrase", name: "Late" },
    });
    expect(accept.body.code).toBe("invalid_token");
    expect((await send(location, { method: "DELETE", token: t.adminKey })).status).toBe(409);
  });

  it("is kept 30 days after it changed, then the hourly purge forgets it (404)", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant();
    const ended = await invited(t, "ended@example.com");
    const waiting = await invited(t, "still-waiting@example.com");
    expect((await call(ended.location, { method: "DELETE", token: t.adminKey })).status).toBe(204);

    await runJobNamed("tenants/purge-tokens", { clock: later(29 * DAY), modules: walkingOnly([t.id]) });
    expect((await call(ended.location, { token: t.adminKey })).status).toBe(200);
    await runJobNamed("tenants/purge-tokens", { clock: later(30 * DAY + HOUR), modules: walkingOnly([t.id]) });
    const gone = await call(ended.location, { token: t.adminKey });
    expect({ status: gone.status, code: gone.body.code }).toEqual({ status: 404, code: "not_found" });
    // The pending one expires on day 7 and is kept until day 37.
    expect((await call(waiting.location, { token: t.adminKey })).status).toBe(200);
    await runJobNamed("tenants/purge-tokens", { clock: later(37 * DAY + HOUR), modules: walkingOnly([t.id]) });
    expect((await call(waiting.location, { token: t.adminKey })).status).toBe(404);
    vi.restoreAllMocks();
  });
});
