// The whole platform under an ENCRYPTION_KEYS of a test's choosing, on a test's manual clock,
// and the fixtures the key-rotation and unseal-failure tests both need on it: a tenant, and a
// user enrolled in two-factor sign-in (whose TOTP secret is sealed in the directory).
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import type { ManualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, PASSWORD } from "../identity/helpers";
import { codeAt } from "../identity/two-factor-helpers";

/** Every registered module over `encryptionKeys` (undefined: the variable unset), on `clock`. */
export function keyedPlatform(encryptionKeys: string | undefined, clock: ManualClock) {
  return callerOf(testApp(modules, { ENCRYPTION_KEYS: encryptionKeys }, MIGRATIONS, clock).fetch);
}
export type KeyedCall = ReturnType<typeof keyedPlatform>;

/** A fresh tenant made with the root key. Ids are time-ordered only across milliseconds: a second apart, tenants list in the order made. */
export async function tenantOn(call: KeyedCall, clock: ManualClock, prefix: string) {
  clock.advance(1_000);
  const slug = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call("/api/v1/platform/tenants", {
    token: String(env.PLATFORM_ROOT_KEY),
    body: { slug, name: slug },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: String(res.body.id), slug, adminKey: String(res.body.admin_key) };
}

/** Registers `email` in the tenant and enrols it in two-factor sign-in; its user id and TOTP secret. */
export async function enrolledTotp(call: KeyedCall, clock: ManualClock, slug: string, email: string) {
  const reg = await call("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name: "Ada" } });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const session = await call("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
  const token = String(session.body.access_token);
  const started = await call("/api/v1/me/two-factor", { token, method: "POST" });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const secret = String(started.body.secret);
  const confirmed = await call("/api/v1/me/two-factor/confirm", { token, body: { code: codeAt(secret, clock) } });
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return { id: String(reg.body.id), secret };
}
