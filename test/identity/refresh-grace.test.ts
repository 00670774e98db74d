// Two tabs refreshing at once, or a refresh retried after its response was lost, present
// the same refresh token twice within moments: the grace answers them the successor the
// first one got, instead of taking the second for a thief and revoking the family.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { identity } from "../../src/modules/identity";
import { REFRESH_GRACE_MS } from "../../src/modules/identity/directory/credentials";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { runJobNamed, testApp } from "../helpers";
import { call, callerOf, newTenant, newUser, PASSWORD, spentLongAgo } from "./helpers";

const refresh = (slug: string, refresh_token: string, using = call) =>
  using("/api/v1/auth/refresh", { tenant: slug, body: { refresh_token } });

/** The platform with a clock the test moves, and a user logged in to a fresh tenant of it. */
async function userAt(start: string) {
  const clock = manualClock(start);
  const { fetch } = testApp([system(), tenants(), identity()], {}, MIGRATIONS, clock);
  const at = callerOf((path, init) => fetch(path, init));
  const slug = `grace-${crypto.randomUUID().slice(0, 8)}`;
  const t = await at("/api/v1/platform/tenants", { token: env.PLATFORM_ROOT_KEY, body: { slug, name: slug } });
  expect(t.status, JSON.stringify(t.body)).toBe(201);
  const email = "ada@example.com";
  expect(
    (await at("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name: "Ada" } })).status,
  ).toBe(201);
  const pair = await at("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
  expect(pair.status, JSON.stringify(pair.body)).toBe(200);
  return { clock, at, slug, tenantId: String(t.body.id), refreshToken: String(pair.body.refresh_token) };
}

describe("refresh grace", () => {
  it("five concurrent refreshes with one token all get the same successor, and the session lives on", async () => {
    const t = await newTenant("grace");
    const u = await newUser(t.slug);
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(t.slug, u.refresh_token)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const successors = new Set(answers.map((a) => a.body.refresh_token));
    expect(successors.size).toBe(1);
    const successor = String(answers[0]?.body.refresh_token);
    expect(successor).not.toBe(u.refresh_token);
    for (const a of answers) {
      expect(a.headers.get("cache-control")).toBe("no-store");
      expect((await call("/api/v1/me", { token: a.body.access_token as string })).status).toBe(200);
    }
    // The family was not revoked: the successor rotates as usual.
    expect((await refresh(t.slug, successor)).status).toBe(200);
  });

  it("the directory keeps the successor only sealed, under a key only the spent token gives", async () => {
    const t = await newTenant("grace-sealed");
    const u = await newUser(t.slug);
    const next = await refresh(t.slug, u.refresh_token);
    expect(next.status).toBe(200);
    const successor = String(next.body.refresh_token);
    const dump = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) =>
      JSON.stringify(state.storage.sql.exec("select * from refresh_tokens").toArray()),
    );
    expect(dump).not.toContain(successor);
    expect(dump).not.toContain(successor.slice(4, 24));
    expect(dump).not.toContain(u.refresh_token.slice(4, 24));
  });

  it("within the grace a replay is answered the successor; a moment after, it revokes the family", async () => {
    const { clock, at, slug, refreshToken } = await userAt("2030-03-01T00:00:00.000Z");
    const first = await refresh(slug, refreshToken, at);
    expect(first.status).toBe(200);
    clock.advance(REFRESH_GRACE_MS - 1);
    const retried = await refresh(slug, refreshToken, at);
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).toBe(first.body.refresh_token);
    clock.advance(2);
    const late = await refresh(slug, refreshToken, at);
    expect(late.status).toBe(401);
    // Reuse past the grace is a copy in someone else's hands: the successor dies with the family.
    expect((await refresh(slug, String(first.body.refresh_token), at)).status).toBe(401);
  });

  it("once the successor has been spent, a replay of its predecessor revokes the family, grace or not", async () => {
    const { at, slug, refreshToken } = await userAt("2030-03-02T00:00:00.000Z");
    const first = await refresh(slug, refreshToken, at);
    const second = await refresh(slug, String(first.body.refresh_token), at);
    expect(second.status).toBe(200);
    expect((await refresh(slug, refreshToken, at)).status).toBe(401);
    expect((await refresh(slug, String(second.body.refresh_token), at)).status).toBe(401);
  });

  it("the hourly purge drops a sealed successor once its grace is over", async () => {
    const t = await newTenant("grace-purge");
    const u = await newUser(t.slug);
    expect((await refresh(t.slug, u.refresh_token)).status).toBe(200);
    const sealed = () =>
      runInDurableObject(
        env.TENANT_DIRECTORY.getByName(t.id),
        (_: TenantDirectory, state) =>
          state.storage.sql.exec("select count(*) as n from refresh_tokens where successor_sealed is not null").one().n,
      );
    await runJobNamed("tenants/purge-tokens");
    expect(await sealed()).toBe(1);
    await spentLongAgo(t.id);
    await runJobNamed("tenants/purge-tokens");
    expect(await sealed()).toBe(0);
  });
});
