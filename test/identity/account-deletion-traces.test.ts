// Deleting an account forgets what names its person in the tenant's directory at once, not at the
// hourly purge 30 days later: the invitations that hold their email (the one they accepted, the
// ended ones to their address, a pending one), their sessions, two-factor secret and recovery codes.
// What stays, and why, is in docs/identity.md ("What deleting an account removes").
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RECIPIENT_SCAN_LIMIT } from "../../src/kernel/notify/recipient-dismissal";
import { mailLetterOf } from "../notify/helpers";
import { auditOf, call, mailTo, newTenant, newUser, PASSWORD, rootKey, tokenIn } from "./helpers";
import { ssoKit } from "./sso-helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

type Platform = ReturnType<typeof platformAt>;
type Tenant = Awaited<ReturnType<Platform["tenant"]>>;

/** The directory tables with a row whose values contain `needle`, and how many rows (SQLite's own and the object's key-value table left out). */
async function rowsNaming(tenantId: string, needle: string): Promise<Record<string, number>> {
  return runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
    const sql = state.storage.sql;
    const found: Record<string, number> = {};
    const tables = sql
      .exec<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'",
      )
      .toArray();
    for (const { name } of tables) {
      const n = sql
        .exec(`select * from "${name}"`)
        .toArray()
        .filter((row) => JSON.stringify(row).includes(needle)).length;
      if (n > 0) found[name] = n;
    }
    return found;
  });
}

/** Invites `email` into `roles` as the tenant's admin key; returns the invitation's id. */
async function invite(p: Platform, t: Tenant, email: string, roles = ["viewer"]): Promise<string> {
  const res = await p.call("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

/**
 * Invites `email` and accepts the invitation with its mailed token (the newest of `mails` invitations
 * to the address): the new user's id, access token and invitation id.
 */
async function joined(p: Platform, t: Tenant, email: string, mails = 1) {
  const id = await invite(p, t, email);
  const token = tokenIn(await mailTo(t.slug, email, "You are invited", mails));
  const res = await p.call("/api/v1/auth/accept-invitation", {
    tenant: t.slug,
    body: { token, password: PASSWORD, name: "Invitee" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const me = await p.call("/api/v1/me", { token: String(res.body.access_token) });
  return { invitation: id, userId: String((me.body.user as { id: string }).id), token: String(res.body.access_token) };
}

/** What the tenant's administrator sees of invitations of `status`: ids and emails. */
async function listed(p: Platform, t: Tenant, status: string) {
  const res = await p.call(`/api/v1/admin/invitations?status=${status}`, { token: t.adminKey });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.items as { id: string; email: string }[]).map((i) => ({ id: i.id, email: i.email }));
}

describe("deleting an account forgets the invitations that name its person", () => {
  it("DELETE /me: the accepted invitation, ended ones to the address, and a pending one go at once; others' stay", async () => {
    const p = platformAt("2032-01-10T00:00:00.000Z");
    const t = await p.tenant("forget-inv");
    const email = "leaver@example.com";
    // An earlier invitation to the address, revoked, before the one accepted.
    const revoked = await invite(p, t, email);
    expect((await p.call(`/api/v1/admin/invitations/${revoked}`, { method: "DELETE", token: t.adminKey })).status).toBe(
      204,
    );
    p.clock.advance(1000); // so the mailbox lists the second invitation's mail first
    const leaver = await joined(p, t, email, 2);
    // Asked again, for another role: pending when the account goes.
    const pending = await invite(p, t, email, ["member"]);
    // Someone else's invitations are not the leaver's to take.
    const stays = await invite(p, t, "stays@example.com");
    const staysRevoked = await invite(p, t, "stays.revoked@example.com");
    expect(
      (await p.call(`/api/v1/admin/invitations/${staysRevoked}`, { method: "DELETE", token: t.adminKey })).status,
    ).toBe(204);

    const del = await p.call("/api/v1/me", { method: "DELETE", token: leaver.token, body: { password: PASSWORD } });
    expect(del.status, JSON.stringify(del.body)).toBe(204);

    expect(await listed(p, t, "accepted")).toEqual([]);
    expect(await listed(p, t, "revoked")).toEqual([{ id: staysRevoked, email: "stays.revoked@example.com" }]);
    expect(await listed(p, t, "pending")).toEqual([{ id: stays, email: "stays@example.com" }]);
    for (const id of [leaver.invitation, revoked, pending]) {
      expect((await p.call(`/api/v1/admin/invitations/${id}`, { token: t.adminKey })).status).toBe(404);
    }
    // The pending one's end is on record, with why (the log names no email). Three revocations:
    // the two an admin made, and the deletion's, which the queue may deliver last.
    const ended = await p.auditOf(t.adminKey, "identity.invitation.revoked", 3);
    expect(ended.find((e) => e.target === `${t.id}/invitation/${pending}`)?.detail).toEqual({
      reason: "invitee_deleted",
      user_id: leaver.userId,
    });
    expect(await rowsNaming(t.id, email)).toEqual({});
  });

  it("DELETE /users/{id} by an administrator (an erasure request) forgets them alike", async () => {
    const p = platformAt("2032-01-11T00:00:00.000Z");
    const t = await p.tenant("forget-inv-admin");
    const email = "erase.me@example.com";
    const person = await joined(p, t, email);
    const del = await p.call(`/api/v1/users/${person.userId}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await listed(p, t, "accepted")).toEqual([]);
    expect((await p.call(`/api/v1/admin/invitations/${person.invitation}`, { token: t.adminKey })).status).toBe(404);
    expect(await rowsNaming(t.id, email)).toEqual({});
  });

  it("an invitation the deleted person sent is revoked, not forgotten: its token is refused", async () => {
    // The invitee's address is the invitee's, not the deleted person's: the row stays, ended (inviter-deleted.test.ts).
    const p = platformAt("2032-01-14T00:00:00.000Z");
    const t = await p.tenant("forget-sender");
    const sender = await p.user(t.slug, "sender@example.com");
    const grant = await p.call(`/api/v1/admin/users/${sender.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(grant.status).toBe(204);
    const sent = await p.call("/api/v1/admin/invitations", {
      token: sender.token,
      body: { email: "their.guest@example.com", roles: ["viewer"] },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const token = tokenIn(await mailTo(t.slug, "their.guest@example.com", "You are invited"));
    const del = await p.call(`/api/v1/users/${sender.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await listed(p, t, "pending")).toEqual([]);
    expect(await listed(p, t, "revoked")).toEqual([{ id: String(sent.body.id), email: "their.guest@example.com" }]);
    const accept = await p.call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: PASSWORD, name: "Guest" },
    });
    expect([accept.status, accept.body.code]).toEqual([400, "invalid_token"]);
  });
});

describe("deleting an account leaves no row of the directory naming its person", () => {
  it("sessions, two-factor secret, recovery codes and invitation go; only event bookkeeping keeps the id", async () => {
    const p = platformAt("2032-01-12T00:00:10.000Z");
    const t = await p.tenant("forget-rows");
    const email = "every.trace@example.com";
    const person = await joined(p, t, email);
    const second = await p.login(t.slug, email);
    expect(second.status).toBe(200);
    const { secret } = await p.enrol(person.token);
    p.clock.advance(30_000);
    const before = await rowsNaming(t.id, person.userId);
    for (const table of ["users", "role_bindings", "token_families", "two_factor", "recovery_codes", "invitations"]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    const del = await p.call("/api/v1/me", {
      method: "DELETE",
      token: person.token,
      body: { password: PASSWORD, code: codeAt(secret, p.clock) },
    });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await rowsNaming(t.id, email)).toEqual({});
    // The id stays only where events are counted and sent: ids, never the email (docs/identity.md).
    const left = Object.keys(await rowsNaming(t.id, person.userId));
    expect(left.filter((table) => table !== "stream_versions" && table !== "outbox")).toEqual([]);
  });

  it("an identity of the single sign-on provider linked to the account goes with it; another account's stays", async () => {
    // A link kept would name a deleted account (and sign the provider's identity in to nothing).
    const p = platformAt("2032-01-13T00:00:00.000Z");
    const { tenantWithSso, signIn, linksOf } = ssoKit(p, "forget-sso");
    const t = await tenantWithSso();
    const gone = await p.user(t.slug, "sso.gone@example.com");
    const kept = await p.user(t.slug, "sso.kept@example.com");
    expect((await signIn(t.id, "gone-at-idp", gone.email)).ok).toBe(true);
    expect((await signIn(t.id, "kept-at-idp", kept.email)).ok).toBe(true);
    const del = await p.call(`/api/v1/users/${gone.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await linksOf(t.id)).toEqual([{ subject: "kept-at-idp", user_id: kept.id }]);
    expect(await rowsNaming(t.id, gone.email)).toEqual({});
  });
});

describe("deleting an account dismisses the mail dead letters to its address", () => {
  it("a replay would mail the deleted person: their letters go (audited as dismissed by the deleter), others' stay", async () => {
    const t = await newTenant("forget-mail");
    const person = await newUser(t.slug);
    const theirs = await mailLetterOf(call, rootKey(), t.id, person.email.toUpperCase());
    const other = await mailLetterOf(call, rootKey(), t.id, "someone.else@example.com");
    const del = await call("/api/v1/me", {
      method: "DELETE",
      token: person.access_token,
      body: { password: PASSWORD },
    });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    const left = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${t.id}`, { token: rootKey() });
    expect((left.body.items as { id: string }[]).map((l) => l.id)).toEqual([other.id]);
    const dismissed = await auditOf(t.adminKey, "mail.dead_letter.dismissed");
    expect(dismissed.map((e) => [e.actor.kind, e.actor.id, e.detail?.dead_letter_id])).toEqual([
      ["user", person.id, theirs.id],
    ]);
  });

  it("a letter still waiting to be sent is found behind more than the scan's worth of replayed ones", async () => {
    // Replayed letters keep their message and stay until dismissed: a tenant through a few outages
    // holds more of them than one deletion opens (RECIPIENT_SCAN_LIMIT). Read oldest first whatever
    // their state, they filled the scan, and the pending letter to the deleted person, the one a
    // replay would still mail, was never looked at.
    const t = await newTenant("forget-mail-behind");
    const person = await newUser(t.slug);
    await env.DB.prepare(
      `insert into mail_dead_letters
         (id, queue, message_id, mail_id, tenant_id, kind, reason, body, attempts, received_at, replayed_at)
       with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
       select printf('00000replayed%05d', i), 'plinth-mail-dlq', printf('replayed-%s-%05d', ?2, i), null, ?2,
              'verify_email', 'provider outage', '{}', 31, '2020-01-01T00:00:00.000Z', '2020-01-02T00:00:00.000Z'
         from n`,
    )
      .bind(RECIPIENT_SCAN_LIMIT, t.id)
      .run();
    const theirs = await mailLetterOf(call, rootKey(), t.id, person.email);
    const del = await call("/api/v1/me", {
      method: "DELETE",
      token: person.access_token,
      body: { password: PASSWORD },
    });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    const pending = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${t.id}&pending=true`, {
      token: rootKey(),
    });
    expect(pending.body.items).toEqual([]);
    const dismissed = await auditOf(t.adminKey, "mail.dead_letter.dismissed");
    expect(dismissed.map((e) => e.detail?.dead_letter_id)).toEqual([theirs.id]);
  });
});
