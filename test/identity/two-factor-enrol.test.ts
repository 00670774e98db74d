import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { codeAt, platformAt } from "./two-factor-helpers";

describe("two-factor enrolment (/api/v1/me/two-factor)", () => {
  it("starts pending with a secret and otpauth URI, turns on with a first code, and answers 10 recovery codes once", async () => {
    const { clock, call, tenant, user } = platformAt("2031-01-01T00:00:10.000Z");
    const t = await tenant("tfa-enrol");
    const ada = await user(t.slug, "ada@example.com");

    const off = await call("/api/v1/me/two-factor", { token: ada.token });
    expect(off.body).toEqual({ enabled: false, pending: false, enabled_at: null, recovery_codes_remaining: 0 });

    const started = await call("/api/v1/me/two-factor", { token: ada.token, method: "POST" });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.headers.get("cache-control")).toBe("no-store");
    const secret = String(started.body.secret);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(String(started.body.otpauth_uri));
    expect(uri.searchParams.get("issuer")).toBe(t.name);
    expect(decodeURIComponent(uri.pathname)).toBe(`/${t.name}:ada@example.com`);
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect((await call("/api/v1/me/two-factor", { token: ada.token })).body).toMatchObject({
      enabled: false,
      pending: true,
    });

    // Not active yet: login still answers tokens.
    expect(
      (
        await call("/api/v1/auth/login", {
          tenant: t.slug,
          body: { email: ada.email, password: "correct horse battery staple" },
        })
      ).body.access_token,
    ).toBeTruthy();

    const wrong = await call("/api/v1/me/two-factor/confirm", { token: ada.token, body: { code: "000000" } });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 403, code: "wrong_two_factor_code" });
    const malformed = await call("/api/v1/me/two-factor/confirm", { token: ada.token, body: { code: "12ab" } });
    expect(malformed.status).toBe(400);

    const confirmed = await call("/api/v1/me/two-factor/confirm", {
      token: ada.token,
      body: { code: codeAt(secret, clock) },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    const codes = confirmed.body.recovery_codes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);

    const on = await call("/api/v1/me/two-factor", { token: ada.token });
    expect(on.body).toEqual({
      enabled: true,
      pending: false,
      enabled_at: clock.now().toISOString(),
      recovery_codes_remaining: 10,
    });
    // Never shown again: not in the status, and enrolling again is refused while it is on.
    expect(JSON.stringify(on.body)).not.toContain(secret);
    const again = await call("/api/v1/me/two-factor", { token: ada.token, method: "POST" });
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: "two_factor_enabled" });
    // A confirmation once on is refused (it would mint new recovery codes).
    clock.advance(30_000);
    const reconfirm = await call("/api/v1/me/two-factor/confirm", {
      token: ada.token,
      body: { code: codeAt(secret, clock) },
    });
    expect(reconfirm.status).toBe(403);
  });

  it("stores the secret sealed with the tenant's envelope key and the recovery codes only as hashes", async () => {
    const { call, tenant, user, enrol } = platformAt("2031-01-02T00:00:10.000Z");
    const t = await tenant("tfa-sealed");
    const ada = await user(t.slug, "ada@example.com");
    const { secret, recoveryCodes } = await enrol(ada.token);
    const stored = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) => ({
      sealed: state.storage.sql.exec<{ sealed_secret: string }>("select sealed_secret from two_factor").toArray(),
      hashes: state.storage.sql.exec<{ code_hash: string }>("select code_hash from recovery_codes").toArray(),
      outbox: JSON.stringify(state.storage.sql.exec("select * from outbox").toArray()),
    }));
    expect(stored.sealed).toHaveLength(1);
    expect(stored.sealed[0]?.sealed_secret).toMatch(/^v1\.[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]+$/);
    expect(stored.sealed[0]?.sealed_secret).not.toContain(secret);
    expect(stored.hashes).toHaveLength(10);
    for (const { code_hash } of stored.hashes) expect(code_hash).toMatch(/^[0-9a-f]{64}$/);
    const plain = recoveryCodes.map((c) => c.replace(/-/g, ""));
    for (const code of [...recoveryCodes, ...plain, secret]) expect(stored.outbox).not.toContain(code);
    expect((await call("/api/v1/me/two-factor", { token: ada.token })).status).toBe(200);
  });

  it("disables with a current code or a recovery code, and not with a wrong, reused or used one", async () => {
    const { clock, call, tenant, user, enrol, login } = platformAt("2031-01-03T00:00:10.000Z");
    const t = await tenant("tfa-disable");
    const ada = await user(t.slug, "ada@example.com");
    const { secret, recoveryCodes } = await enrol(ada.token);
    const del = (body: unknown) => call("/api/v1/me/two-factor", { token: ada.token, method: "DELETE", body });

    // The code that confirmed the enrolment is spent: its step was accepted.
    const replay = await del({ code: codeAt(secret, clock) });
    expect({ status: replay.status, code: replay.body.code }).toEqual({ status: 403, code: "wrong_two_factor_code" });
    expect((await del({ code: "123456", recovery_code: recoveryCodes[0] })).status).toBe(400);
    expect((await del({})).status).toBe(400);
    expect((await del({ recovery_code: "aaaa-bbbb-cccc-dddd" })).status).toBe(403);

    clock.advance(30_000);
    expect((await del({ code: codeAt(secret, clock) })).status).toBe(204);
    expect((await call("/api/v1/me/two-factor", { token: ada.token })).body).toMatchObject({
      enabled: false,
      recovery_codes_remaining: 0,
    });
    // Off: login answers tokens directly again, in the usual shape.
    const res = await login(t.slug, ada.email);
    expect(Object.keys(res.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);

    // Again, and off with a recovery code (spelt in upper case, without dashes).
    const second = await enrol(ada.token);
    const code = (second.recoveryCodes[3] ?? "").replace(/-/g, "").toUpperCase();
    expect((await del({ recovery_code: code })).status).toBe(204);
    expect((await call("/api/v1/me/two-factor", { token: ada.token })).body).toMatchObject({ enabled: false });
  });

  it("forgets the sealed secret and recovery codes when the user is deleted", async () => {
    const { call, tenant, user, enrol } = platformAt("2031-01-04T00:00:10.000Z");
    const t = await tenant("tfa-delete");
    const ada = await user(t.slug, "ada@example.com");
    await enrol(ada.token);
    const rows = () =>
      runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) => ({
        secrets: state.storage.sql.exec("select 1 from two_factor where user_id = ?", ada.id).toArray().length,
        codes: state.storage.sql.exec("select 1 from recovery_codes where user_id = ?", ada.id).toArray().length,
      }));
    expect(await rows()).toEqual({ secrets: 1, codes: 10 });
    expect((await call(`/api/v1/users/${ada.id}`, { token: t.adminKey, method: "DELETE" })).status).toBe(204);
    expect(await rows()).toEqual({ secrets: 0, codes: 0 });
  });

  it("is for users: an API key gets 403", async () => {
    const { call, tenant } = platformAt("2031-01-06T00:00:10.000Z");
    const t = await tenant("tfa-key");
    expect((await call("/api/v1/me/two-factor", { token: t.adminKey, method: "POST" })).status).toBe(403);
    expect((await call("/api/v1/me/two-factor", { token: t.adminKey })).status).toBe(403);
  });
});
