// A change of password verifies the current one in the Worker (an Argon2 run, off the directory's
// thread) against the hash passwordHashOf gave, then asks the directory to set the new one. An
// administrator's reset with sign_out (a suspected compromise: it voids the password) committed in
// that gap must not be overwritten by whoever holds the old password and a live access token, as a
// login's loginSucceeded refuses it (admin-password-reset-void.test.ts).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { hasher } from "../../src/modules/identity/services";
import { call, newTenant, newUser, PASSWORD } from "./helpers";

const NEW_PASSWORD = "an entirely new passphrase";

const storedHash = (tenantId: string, userId: string) =>
  runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, st) => st.storage.sql.exec<{ h: string }>("select password_hash as h from users where id = ?", userId).one().h,
  );

describe("a change of password while an administrator's reset voids the password", () => {
  it("refuses the hash the reset voided and keeps the reset's void", async () => {
    const t = await newTenant("pw-change-race");
    const member = await newUser(t.slug);
    const dir = directory(env, t.id);
    // What the change verified the current password against, read before the reset.
    const verifiedHash = (await dir.passwordHashOf(member.id)) ?? "";
    expect(verifiedHash).not.toBe("");
    const reset = await call(`/api/v1/users/${member.id}/password-reset`, {
      token: t.adminKey,
      body: { sign_out: true },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(202);

    const changed = await dir.changePassword({
      ctx: { now: new Date().toISOString(), actor: { kind: "user", id: member.id }, requestId: null },
      userId: member.id,
      passwordHash: await hasher.hash(NEW_PASSWORD),
      keepFamily: null,
      verifiedHash,
    });
    expect(changed).toEqual({ ok: false, error: "password_changed" });
    expect(await storedHash(t.id, member.id)).toBe("!reset");
    const login = (password: string) =>
      call("/api/v1/auth/login", { tenant: t.slug, body: { email: member.email, password } });
    expect((await login(NEW_PASSWORD)).status).toBe(401);
    expect((await login(PASSWORD)).status).toBe(401);
  });

  it("sets the new password over the hash it verified", async () => {
    const t = await newTenant("pw-change-race-ok");
    const member = await newUser(t.slug);
    const changed = await call("/api/v1/auth/change-password", {
      token: member.access_token,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    const login = (password: string) =>
      call("/api/v1/auth/login", { tenant: t.slug, body: { email: member.email, password } });
    expect((await login(NEW_PASSWORD)).status).toBe(200);
    expect((await login(PASSWORD)).status).toBe(401);
  });
});
