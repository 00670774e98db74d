// Credential throttling: guessing one account's password, or flooding its
// mailbox, stops after a handful of tries, alike for emails with and without an account.
import { describe, expect, it } from "vitest";
import { mailTo, tokenIn } from "../identity/helpers";
import { type Answer, gateway } from "./helpers";

const PASSWORD = "correct horse battery staple";
const tight = { mode: "sync", on_failure: "open" } as const;

/** A user of a new tenant whose login budget is three tries, signed in with the right password. */
async function signedIn(email: string) {
  const { call, tenant } = gateway({ login: { limit: 3, period_s: 900, burst: 3, ...tight } });
  const t = await tenant();
  await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "x" } });
  const session = await call("/api/v1/auth/login", { tenant: t.slug, body: { email, password: PASSWORD } });
  expect(session.status).toBe(200);
  return { call, t, email, token: String(session.body.access_token) };
}

/**
 * The correct login gave its try back: three wrong guesses (403) spend the budget of three,
 * and then even the right password is refused (429); that refusal is returned.
 */
async function spendBudget(guess: (password: string) => Promise<Answer>): Promise<Answer> {
  const wrong = [];
  for (const g of ["wrong guess one", "wrong guess two", "wrong guess three"]) wrong.push((await guess(g)).status);
  expect(wrong).toEqual([403, 403, 403]);
  const blocked = await guess(PASSWORD);
  expect(blocked.status).toBe(429);
  expect(blocked.body.code).toBe("rate_limited");
  return blocked;
}

describe("credential throttling", () => {
  it("stops login guesses for one account; the right password then waits too; other accounts are not affected", async () => {
    const { call, tenant } = gateway({ login: { limit: 3, period_s: 900, burst: 3, ...tight } });
    const t = await tenant();
    for (const email of ["ada@example.com", "bo@example.com"]) {
      expect(
        (await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "x" } }))
          .status,
      ).toBe(201);
    }
    const attempt = (email: string, password: string) =>
      call("/api/v1/auth/login", { tenant: t.slug, body: { email, password } });
    for (let i = 0; i < 3; i++) expect((await attempt("ada@example.com", "wrong password!!")).status).toBe(401);
    const blocked = await attempt("ada@example.com", PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe("rate_limited");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt("bo@example.com", PASSWORD)).status).toBe(200);
  });

  it("counts only failed logins against the account: a user or a script that logs in correctly is never locked out", async () => {
    const { call, tenant } = gateway({ login: { limit: 3, period_s: 900, burst: 3, ...tight } });
    const t = await tenant();
    const email = "often@example.com";
    await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "x" } });
    const attempt = (password: string) => call("/api/v1/auth/login", { tenant: t.slug, body: { email, password } });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await attempt(PASSWORD)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    // The headers of a correct login show the budget it gave back.
    const ok = await attempt(PASSWORD);
    expect(ok.headers.get("ratelimit")).toContain('"login";r=3;');
    // Failures still count, from a full budget: three wrong tries, then even the right password waits.
    for (let i = 0; i < 3; i++) expect((await attempt("wrong password!!")).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(429);
  });

  it("counts a signed-in user's current-password guesses against the account's login budget", async () => {
    // A stolen access token must buy no more password guesses than the login form gives.
    const { call, t, email, token } = await signedIn("cp@example.com");
    const blocked = await spendBudget((current_password) =>
      call("/api/v1/auth/change-password", {
        token,
        body: { current_password, new_password: "a fresh passphrase here" },
      }),
    );
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // One budget: the login form is spent too.
    expect((await call("/api/v1/auth/login", { tenant: t.slug, body: { email, password: PASSWORD } })).status).toBe(
      429,
    );
  });

  it("counts the password that deletes an account (DELETE /me) against the account's login budget", async () => {
    // As for changing the password: a stolen access token must not buy guesses at the password.
    const { call, token } = await signedIn("bye@example.com");
    await spendBudget((password) => call("/api/v1/me", { method: "DELETE", token, body: { password } }));
    // Nothing was deleted: the session still works.
    expect((await call("/api/v1/me", { token })).status).toBe(200);
  });

  it("answers an unknown email exactly as a known one: the same statuses, in the same order", async () => {
    const { call, tenant } = gateway({ login: { limit: 2, period_s: 900, burst: 2, ...tight } });
    const t = await tenant();
    await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "real@example.com", password: PASSWORD, name: "x" },
    });
    const run = async (email: string) => {
      const out = [];
      for (let i = 0; i < 4; i++) {
        const res = await call("/api/v1/auth/login", { tenant: t.slug, body: { email, password: "wrong password!!" } });
        out.push(`${res.status} ${res.body.code}`);
      }
      return out;
    };
    const known = await run("real@example.com");
    expect(known).toEqual(["401 unauthenticated", "401 unauthenticated", "429 rate_limited", "429 rate_limited"]);
    expect(await run("ghost@example.com")).toEqual(known);
  });

  it("limits reset mail per address: past the limit, requests are refused and nothing more is mailed", async () => {
    const { call, tenant } = gateway({ mail: { limit: 2, period_s: 3600, burst: 2, ...tight } });
    const t = await tenant();
    const email = "flood@example.com";
    await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "x" } });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email } })).status);
    }
    expect(statuses).toEqual([202, 202, 429, 429]);
    let resets = 0;
    // The mail queue's consumer fills the mailbox a moment after the requests.
    for (let i = 0; i < 200; i++) {
      const box = await call(`/api/v1/dev/mailbox?to=${email}`, { tenant: t.slug });
      resets = (box.body.items as { subject: string }[]).filter((m) => m.subject.startsWith("Reset")).length;
      if (resets >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(resets).toBe(2);
  });

  it("limits invitation mail per address: a tenant admin cannot flood someone's mailbox with invitations", async () => {
    const { call, tenant } = gateway({ mail: { limit: 2, period_s: 3600, burst: 2, ...tight } });
    const t = await tenant();
    const invite = (email: string) =>
      call("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles: ["member"] } });
    const email = "bombed@example.com";
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await invite(email)).status);
    expect(statuses).toEqual([201, 201, 429, 429]);
    // Another address has its own budget.
    expect((await invite("someone-else@example.com")).status).toBe(201);
    let invitations = 0;
    for (let i = 0; i < 200; i++) {
      const box = await call(`/api/v1/dev/mailbox?to=${email}`, { tenant: t.slug });
      invitations = (box.body.items as { subject: string }[]).filter((m) =>
        m.subject.startsWith("You are invited"),
      ).length;
      if (invitations >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(invitations).toBe(2);
    // The refused ones changed nothing: the second invitation is still the pending one.
    const pending = await call("/api/v1/admin/invitations", { token: t.adminKey });
    expect((pending.body.items as { email: string }[]).filter((i) => i.email === email)).toHaveLength(1);
  });

  it("keeps an address's own reset mail apart from invitations to it: an admin's invitations cannot lock a member out of a reset", async () => {
    const { call, tenant } = gateway({ mail: { limit: 2, period_s: 3600, burst: 2, ...tight } });
    const t = await tenant();
    const email = "member@example.com";
    await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "x" } });
    const invite = () => call("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles: ["member"] } });
    const reset = () => call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email } });
    // Each side spends its own two of the address's budget, whatever the other did in between.
    const statuses = [];
    for (const send of [invite, reset, reset, invite, invite, reset]) statuses.push((await send()).status);
    expect(statuses).toEqual([201, 202, 202, 201, 429, 429]);
  });

  /** Invitation subjects in `email`'s dev mailbox, once at least `want` arrived (or after 10 s). */
  async function invitationsTo(call: ReturnType<typeof gateway>["call"], slug: string, email: string, want: number) {
    let found = 0;
    for (let i = 0; i < 200; i++) {
      const box = await call(`/api/v1/dev/mailbox?to=${email}`, { tenant: slug });
      found = (box.body.items as { subject: string }[]).filter((m) => m.subject.startsWith("You are invited")).length;
      if (found >= want) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return found;
  }

  it("limits invitation mail per tenant: inviting many different addresses stops at the tenant's budget; other tenants are not affected", async () => {
    // The platform's sender reputation is every tenant's: one tenant must not mail strangers in bulk.
    const { call, tenant } = gateway({ invitations: { limit: 3, period_s: 3600, burst: 3, ...tight } });
    const [t, other] = [await tenant(), await tenant()];
    const invite = (to: { adminKey: string }, email: string) =>
      call("/api/v1/admin/invitations", { token: to.adminKey, body: { email, roles: ["member"] } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await invite(t, `stranger${i}@example.com`)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const refused = await invite(t, "stranger-late@example.com");
    expect(refused.body.code).toBe("rate_limited");
    expect(refused.body.detail).toContain("invitations");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // A tenant may not raise it in its settings.
    const raise = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { invitations: { limit: 3, period_s: 60 } } },
    });
    expect(raise.status).toBe(400);
    // Another tenant has its own budget.
    expect((await invite(other, "stranger0@example.com")).status).toBe(201);
    // The first three were mailed; the refused ones wrote and mailed nothing.
    expect(await invitationsTo(call, t.slug, "stranger2@example.com", 1)).toBe(1);
    expect(await invitationsTo(call, t.slug, "stranger3@example.com", 0)).toBe(0);
    const pending = await call("/api/v1/admin/invitations", { token: t.adminKey });
    expect((pending.body.items as { email: string }[]).map((i) => i.email).sort()).toEqual([
      "stranger0@example.com",
      "stranger1@example.com",
      "stranger2@example.com",
    ]);
  });

  it("does not spend the tenant's invitation budget on an invitation refused for another reason", async () => {
    const { call, tenant } = gateway({
      invitations: { limit: 2, period_s: 3600, burst: 2, ...tight },
      mail: { limit: 1, period_s: 3600, burst: 1, ...tight },
    });
    const t = await tenant();
    const invite = (email: string, roles = ["member"]) =>
      call("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles } });
    expect((await invite("once@example.com")).status).toBe(201);
    // Refused for the address's own budget, and for a role that does not exist: nothing mailed, nothing spent.
    expect((await invite("once@example.com")).status).toBe(429);
    expect((await invite("typo@example.com", ["no-such-role"])).status).toBe(400);
    expect((await invite("second@example.com")).status).toBe(201);
  });

  /** A tenant under a register policy of 2 per hour, and a registration from a client address. */
  async function registrations() {
    const { call, tenant } = gateway({ register: { limit: 2, period_s: 3600, burst: 2, ...tight } });
    const t = await tenant();
    return (ip: string, n: number) =>
      call("/api/v1/auth/register", {
        tenant: t.slug,
        headers: { "cf-connecting-ip": ip },
        body: { email: `r${n}-${ip.replaceAll(":", "-")}@example.com`, password: PASSWORD, name: "x" },
      });
  }

  it("limits registrations per client address", async () => {
    const from = await registrations();
    expect([(await from("198.51.100.7", 1)).status, (await from("198.51.100.7", 2)).status]).toEqual([201, 201]);
    expect((await from("198.51.100.7", 3)).status).toBe(429);
    expect((await from("198.51.100.8", 4)).status).toBe(201);
  });

  it("counts an IPv6 client by its /64: one host holds a whole /64, so fresh addresses in it buy no more tries", async () => {
    const from = await registrations();
    const statuses = [];
    for (const [n, ip] of ["2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:2", "2001:db8:1:2:ffff::9"].entries()) {
      statuses.push((await from(ip, n)).status);
    }
    expect(statuses).toEqual([201, 201, 429]);
    // Another /64 has its own bucket.
    expect((await from("2001:db8:1:3::1", 9)).status).toBe(201);
  });

  it("limits password-reset confirmations per client address, so made-up tokens cannot buy Argon2 runs without end", async () => {
    // Each confirmation hashes its new password (~45 ms of CPU, 19 MiB) before the directory
    // looks at the token: without a per-address limit only the generous anonymous one applied.
    const { call, tenant } = gateway({ login_ip: { limit: 2, period_s: 60, burst: 2, ...tight } });
    const t = await tenant();
    const confirm = (ip: string, n: number) =>
      call("/api/v1/auth/password-reset/confirm", {
        tenant: t.slug,
        headers: { "cf-connecting-ip": ip },
        body: { token: `plp_made-up-${n}`, password: PASSWORD },
      });
    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await confirm("198.51.100.20", n)).status);
    expect(statuses).toEqual([400, 400, 429]);
    expect((await confirm("198.51.100.21", 9)).status).toBe(400);
  });

  it("counts an invitation's password check for an existing account against that account's login budget", async () => {
    const { call, tenant } = gateway({ login: { limit: 2, period_s: 900, burst: 2, ...tight } });
    const t = await tenant();
    const email = "member-already@example.com";
    await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "x" } });
    const invited = await call("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles: ["viewer"] } });
    expect(invited.status).toBe(201);
    const token = tokenIn(await mailTo(t.slug, email, "You are invited"));
    const accept = (password: string) =>
      call("/api/v1/auth/accept-invitation", { tenant: t.slug, body: { token, password, name: "x" } });
    expect([(await accept("wrong guess one")).status, (await accept("wrong guess two")).status]).toEqual([401, 401]);
    const blocked = await accept(PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe("rate_limited");
  });
});
