// What a product module (a "tickets" module assigning a ticket to a user) asks of a tenant's
// members through the kernel alone: is this user a live member here, suspended or not, with which
// roles and which address to mail; without importing identity's directory contract, which
// test/node/module-imports.test.ts refuses. The module below is test-only; identity is the real one.
import { describe, expect, it } from "vitest";
import { findMember, memberOf } from "../../src/kernel/auth/member-directory";
import type { JobDef, ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules } from "../../src/modules";
import { expectProblem, runJobNamed, testApp, testRuntime } from "../helpers";
import { call, newTenant, newUser } from "../identity/helpers";

/** The platform's modules with no member lookup: identity without `auth.members`. */
const withoutMembers: ModuleDef[] = modules.map((m) => {
  if (!m.auth?.members) return m;
  const { members: _, ...auth } = m.auth;
  return { ...m, auth };
});

/** Checked by the job below: each `[tenantId, userId]` it is to look up, and what it found. */
const toCheck: [string, string][] = [];
const found: Record<string, string | null> = {};

/** A tickets module as a product team writes one: a route checks an assignee, a job mails assignees. */
const tickets = (): ModuleDef => ({
  name: "tickets",
  version: "1.0.0",
  routes: createRouter().get("/assignees/:id", async (c) => {
    const member = await memberOf(c, c.req.param("id"));
    return member ? c.json({ id: member.id, status: member.status, roles: member.roles }) : c.json({ found: false });
  }),
  jobs: [
    {
      name: "remind",
      cron: "0 9 * * *",
      async run(runtime) {
        for (const [tenantId, userId] of toCheck) {
          const member = await findMember(runtime, tenantId, userId);
          found[userId] = member?.status === "active" ? member.email : null;
        }
      },
    } satisfies JobDef,
  ],
});

describe("findMember", () => {
  it("reads a live member with their roles, says a suspended one is suspended, and null once deleted", async () => {
    const t = await newTenant("member-rec");
    const u = await newUser(t.slug);
    const runtime = testRuntime();
    expect(await findMember(runtime, t.id, u.id)).toEqual({
      id: u.id,
      name: "Ada",
      email: u.email,
      email_verified: false,
      status: "active",
      roles: ["member"],
    });
    const granted = await call(`/api/v1/admin/users/${u.id}/roles/viewer`, { token: t.adminKey, method: "PUT" });
    expect(granted.status).toBe(204);
    expect((await findMember(runtime, t.id, u.id))?.roles).toEqual(expect.arrayContaining(["member", "viewer"]));

    const suspended = await call(`/api/v1/users/${u.id}/suspend`, { token: t.adminKey, method: "POST" });
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(await findMember(runtime, t.id, u.id)).toMatchObject({ id: u.id, status: "suspended" });

    const deleted = await call(`/api/v1/users/${u.id}`, { token: t.adminKey, method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await findMember(runtime, t.id, u.id)).toBeNull();
  });

  it("answers null for another tenant's user, an id no user has, and without a member lookup", async () => {
    const a = await newTenant("member-a");
    const b = await newTenant("member-b");
    const u = await newUser(a.slug);
    const runtime = testRuntime();
    expect((await findMember(runtime, a.id, u.id))?.id).toBe(u.id);
    expect(await findMember(runtime, b.id, u.id)).toBeNull();
    expect(await findMember(runtime, a.id, "no-such-user")).toBeNull();
    // Ids the directory's contract refuses: null, not its refusal thrown at the caller.
    expect(await findMember(runtime, a.id, "")).toBeNull();
    expect(await findMember(runtime, a.id, "x".repeat(65))).toBeNull();
    expect(await findMember({ ...runtime, modules: withoutMembers }, a.id, u.id)).toBeNull();
  });

  it("reaches a product job through its runtime: an active member's address, none for a suspended one", async () => {
    const t = await newTenant("member-job");
    const active = await newUser(t.slug);
    const blocked = await newUser(t.slug);
    expect((await call(`/api/v1/users/${blocked.id}/suspend`, { token: t.adminKey, method: "POST" })).status).toBe(200);
    toCheck.push([t.id, active.id], [t.id, blocked.id]);
    const run = await runJobNamed("tickets/remind", { modules: [...modules, tickets()] });
    expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
    expect(found).toMatchObject({ [active.id]: active.email, [blocked.id]: null });
  });
});

describe("memberOf, in a route", () => {
  it("finds a member of the request's own tenant only", async () => {
    const { fetch } = testApp([...modules, tickets()]);
    const a = await newTenant("member-ra");
    const b = await newTenant("member-rb");
    const u = await newUser(a.slug);
    const ask = async (slug: string, id: string) =>
      (await fetch(`/api/v1/tickets/assignees/${id}`, { headers: { "x-tenant": slug } })).json();
    expect(await ask(a.slug, u.id)).toEqual({ id: u.id, status: "active", roles: ["member"] });
    // Tenant b's request naming a's user: not a member there.
    expect(await ask(b.slug, u.id)).toEqual({ found: false });
    const { fetch: bare } = testApp([...withoutMembers, tickets()]);
    const res = await bare(`/api/v1/tickets/assignees/${u.id}`, { headers: { "x-tenant": a.slug } });
    expect(await res.json()).toEqual({ found: false });
  });
});

describe("memberOf, under a caller's crafted request", () => {
  it("looks where the request's tenant is, whatever the caller names, and answers crafted ids as unknown ones", async () => {
    const { fetch } = testApp([...modules, tickets()]);
    const a = await newTenant("member-xa");
    const b = await newTenant("member-xb");
    const [ua, ub] = [await newUser(a.slug), await newUser(b.slug)];
    const ask = (id: string, headers: Record<string, string>) =>
      fetch(`/api/v1/tickets/assignees/${encodeURIComponent(id)}`, { headers });
    // A's key asking for B's user, in its own tenant or claiming B's: never B's member.
    const own = await ask(ub.id, { authorization: `Bearer ${a.adminKey}` });
    expect(await own.json()).toEqual({ found: false });
    const claimed = await ask(ub.id, { authorization: `Bearer ${a.adminKey}`, "x-tenant": b.slug });
    expect(JSON.stringify(await expectProblem(claimed, 403, "tenant_mismatch"))).not.toContain(ub.id);
    expect(await (await ask(ua.id, { authorization: `Bearer ${a.adminKey}` })).json()).toMatchObject({ id: ua.id });
    // No tenant named: the contract's 400, not a lookup somewhere.
    await expectProblem(await ask(ua.id, {}), 400, "tenant_required");
    // Ids a client may craft: another tenant's with a separator, a NUL, non-ASCII, too long. Unknown, never a 500.
    for (const id of [
      `${b.id}/${ub.id}`,
      `${ub.id}\u0000`,
      "../users",
      "\u00e9\u{1F600}",
      "x".repeat(65),
      "x".repeat(4000),
    ]) {
      const res = await ask(id, { "x-tenant": a.slug });
      expect(res.status, id).toBe(200);
      expect(await res.json(), id).toEqual({ found: false });
    }
  });
});
