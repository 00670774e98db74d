// Deleting an account dismisses the mail dead letters to its address right after the directory's
// commit, in D1, which cannot join that transaction. When D1 fails there the account is gone all
// the same: the answer says so (204, not a 500 whose retry is a 404), and the letters are not
// lost to the operator's store: the directory kept their recipient digest in the deletion's
// transaction, and the hourly tenants/purge-tokens dismisses them by it (docs/identity.md).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { audit } from "../../src/modules/audit";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { runJobNamed, testApp } from "../helpers";
import { mailLetterOf } from "../notify/helpers";
import { auditOf, call, callerOf, newTenant, newUser, PASSWORD, rootKey } from "./helpers";

/**
 * A platform whose D1 refuses every write to the tables `table` matches while `outage.down` is
 * set (the database, for a moment); with its own tenant and user, whose tokens it issued.
 */
async function platformWithout(table: string, prefix: string) {
  const outage = { down: false };
  const DB = new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare") {
        return (query: string) => {
          if (outage.down && new RegExp(`^(delete from|insert into|update) "${table}"`).test(query)) {
            throw new Error(`D1_ERROR: ${table} unavailable`);
          }
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const { fetch } = testApp([system(), tenants(), identity(), audit()], { DB });
  const p = callerOf(fetch);
  const created = await p("/api/v1/platform/tenants", {
    token: rootKey(),
    body: { slug: `${prefix}-${crypto.randomUUID().slice(0, 8)}`, name: "Acme" },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const t = { id: String(created.body.id), slug: String(created.body.slug), adminKey: String(created.body.admin_key) };
  const email = `leaver.${crypto.randomUUID().slice(0, 8)}@example.com`;
  const reg = await p("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "Ada" } });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const login = await p("/api/v1/auth/login", { tenant: t.slug, body: { email, password: PASSWORD } });
  const person = { id: String(reg.body.id), email, token: String(login.body.access_token) };
  return { call: p, outage, t, person };
}

/** The tenant's mail dead letters the operator sees, by id. */
async function lettersOf(tenantId: string): Promise<string[]> {
  const res = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}`, { token: rootKey() });
  return (res.body.items as { id: string }[]).map((l) => l.id);
}

/** The recipient digests the tenant's directory still holds to dismiss. */
async function pendingDismissals(tenantId: string): Promise<number> {
  return runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, state) => state.storage.sql.exec("select count(*) as n from mail_dismissals").one().n as number,
  );
}

afterEach(() => vi.restoreAllMocks());

describe("deleting an account while D1 fails after the directory's commit", () => {
  it("DELETE /me answers 204, and the hourly purge dismisses the letters the request could not", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const p = await platformWithout("mail_dead_letters", "mail-retry-me");
    const { t, person } = p;
    const theirs = await mailLetterOf(call, rootKey(), t.id, person.email);
    const other = await mailLetterOf(call, rootKey(), t.id, "someone.else@example.com");

    p.outage.down = true;
    const del = await p.call("/api/v1/me", { method: "DELETE", token: person.token, body: { password: PASSWORD } });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    // The account is gone: its token is refused, and the letters wait for the retry.
    expect((await p.call("/api/v1/me", { token: person.token })).status).toBe(401);
    expect((await lettersOf(t.id)).sort()).toEqual([theirs.id, other.id].sort());
    expect(await pendingDismissals(t.id)).toBe(1);
    const logged = errors.mock.calls.map(([l]) => JSON.parse(String(l)));
    const line = logged.find((l) => l.msg.startsWith("mail dead letters of a deleted user not dismissed"));
    expect(line).toMatchObject({ user_id: person.id });
    expect(JSON.stringify(line)).not.toContain(person.email);

    // D1 is back: the next purge dismisses theirs, by the digest alone, and the directory forgets it.
    p.outage.down = false;
    const run = await runJobNamed("tenants/purge-tokens");
    if (!run.ran) throw new Error("the purge did not run");
    // The run's result counts them, as `plinth jobs run tenants purge-tokens` prints it (docs/identity.md).
    expect(run.run.result?.mail_dead_letters).toBeGreaterThanOrEqual(1);
    expect(await lettersOf(t.id)).toEqual([other.id]);
    expect(await pendingDismissals(t.id)).toBe(0);
    const dismissed = await auditOf(t.adminKey, "mail.dead_letter.dismissed");
    expect(dismissed.map((e) => [e.actor.kind, e.actor.id, e.detail?.dead_letter_id])).toEqual([
      ["system", "tenants/purge-tokens", theirs.id],
    ]);
  });

  it("an administrator's DELETE /users/{id} answers 204 too when the key index and the letters fail", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const p = await platformWithout("(mail_dead_letters|api_key_index)", "mail-retry-admin");
    const { t, person } = p;
    const theirs = await mailLetterOf(call, rootKey(), t.id, person.email.toUpperCase());
    p.outage.down = true;
    const del = await p.call(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    // A repeat finds no such user: the first answer was the truth.
    expect((await p.call(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(404);
    expect(await lettersOf(t.id)).toEqual([theirs.id]);
    p.outage.down = false;
    await runJobNamed("tenants/purge-tokens");
    expect(await lettersOf(t.id)).toEqual([]);
    expect(await pendingDismissals(t.id)).toBe(0);
  });

  it("a letter stored before recipient digests is still opened and dismissed by the request itself", async () => {
    const t = await newTenant("mail-retry-legacy");
    const person = await newUser(t.slug);
    const theirs = await mailLetterOf(call, rootKey(), t.id, person.email);
    const other = await mailLetterOf(call, rootKey(), t.id, "kept@example.com");
    const stored = await env.DB.prepare("select recipient_digest from mail_dead_letters where id = ?")
      .bind(theirs.id)
      .first<{ recipient_digest: string | null }>();
    expect(stored?.recipient_digest).toMatch(/^[0-9a-f]{32}$/);
    await env.DB.prepare("update mail_dead_letters set recipient_digest = null where tenant_id = ?").bind(t.id).run();
    const del = await call(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await lettersOf(t.id)).toEqual([other.id]);
  });

  it("a deletion whose dismissal succeeds leaves nothing for the purge to retry", async () => {
    const t = await newTenant("mail-retry-none");
    const person = await newUser(t.slug);
    await mailLetterOf(call, rootKey(), t.id, person.email);
    const del = await call(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await lettersOf(t.id)).toEqual([]);
    expect(await pendingDismissals(t.id)).toBe(0);
  });
});
