// What a product module (an "inventory" job mailing a tenant's admins that an item runs low)
// asks of a tenant's members through the kernel alone: who holds these roles here, with their
// status and address; without identity's directory contract, which
// test/node/module-imports.test.ts refuses. Before membersWithRole, the only way to find the
// admins was webhooks' listed exception (identity/directory/contract's listUsers).
import { describe, expect, it } from "vitest";
import { membersWithRole } from "../../src/kernel/auth/member-directory";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { testRuntime } from "../helpers";
import { call, newTenant, newUser } from "../identity/helpers";

/** The platform's modules with no member lookup: identity without `auth.members`. */
const withoutMembers: ModuleDef[] = modules.map((m) => {
  if (!m.auth?.members) return m;
  const { members: _, ...auth } = m.auth;
  return { ...m, auth };
});

describe("membersWithRole", () => {
  it("answers the tenant's members holding any of the roles, suspended ones marked, in id order", async () => {
    const t = await newTenant("roles-rec");
    const plain = await newUser(t.slug);
    const admin = await newUser(t.slug);
    const away = await newUser(t.slug);
    for (const u of [admin, away]) {
      const granted = await call(`/api/v1/admin/users/${u.id}/roles/admin`, { token: t.adminKey, method: "PUT" });
      expect(granted.status, JSON.stringify(granted.body)).toBe(204);
    }
    expect((await call(`/api/v1/users/${away.id}/suspend`, { token: t.adminKey, method: "POST" })).status).toBe(200);
    const found = await membersWithRole(testRuntime(), t.id, ["owner", "admin"]);
    const ids = found.map((m) => m.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toContain(admin.id);
    expect(ids).not.toContain(plain.id);
    expect(found.find((m) => m.id === admin.id)).toEqual({
      id: admin.id,
      name: "Ada",
      email: admin.email,
      email_verified: false,
      status: "active",
      roles: expect.arrayContaining(["member", "admin"]),
    });
    expect(found.find((m) => m.id === away.id)?.status).toBe("suspended");
    expect(found.every((m) => m.roles.some((r) => r === "owner" || r === "admin"))).toBe(true);

    // A deleted admin is gone from it at once, as findMember answers null for them.
    expect((await call(`/api/v1/users/${admin.id}`, { token: t.adminKey, method: "DELETE" })).status).toBe(204);
    const after = (await membersWithRole(testRuntime(), t.id, ["owner", "admin"])).map((m) => m.id);
    expect(after).toContain(away.id);
    expect(after).not.toContain(admin.id);
  });

  it("stops at max, and answers none for another tenant's roles, an unknown tenant, no roles or no lookup", async () => {
    const a = await newTenant("roles-a");
    const b = await newTenant("roles-b");
    const users = [await newUser(a.slug), await newUser(a.slug), await newUser(a.slug)];
    const runtime = testRuntime();
    expect(await membersWithRole(runtime, a.id, ["member"], { max: 2 })).toHaveLength(2);
    expect((await membersWithRole(runtime, a.id, ["member"])).map((m) => m.id)).toEqual(
      expect.arrayContaining(users.map((u) => u.id)),
    );
    const inB = (await membersWithRole(runtime, b.id, ["member"])).map((m) => m.id);
    for (const u of users) expect(inB).not.toContain(u.id);
    expect(await membersWithRole(runtime, "", ["member"])).toEqual([]);
    expect(await membersWithRole(runtime, "no-such-tenant", ["member"])).toEqual([]);
    expect(await membersWithRole(runtime, a.id, [])).toEqual([]);
    expect(await membersWithRole({ ...runtime, modules: withoutMembers }, a.id, ["member"])).toEqual([]);
  });
});

describe("membersWithRole's max, as the lookup module receives it", () => {
  it("is a whole number from 1 to 100, or the lookup is not asked at all: NaN, 0 and negatives ask nothing", async () => {
    // A member lookup of another kind (rows in D1, say) may put `max` straight into a LIMIT:
    // the kernel's promise of "never more than 100" must hold for every number a caller passes.
    const asked: number[] = [];
    const spy: ModuleDef = {
      name: "spy-members",
      version: "1.0.0",
      auth: {
        members: {
          find: async () => null,
          withRole: async (_env, _tenantId, _roles, max) => {
            asked.push(max);
            return [];
          },
        },
      },
    };
    const runtime = { ...testRuntime(), modules: [...withoutMembers, spy] };
    // A live tenant: for one the registry does not hold, the lookup is never asked (below).
    const t = await newTenant("roles-max");
    for (const max of [Number.NaN, 0, -1, Number.NEGATIVE_INFINITY, 0.5]) {
      expect(await membersWithRole(runtime, t.id, ["admin"], { max })).toEqual([]);
    }
    expect(asked).toEqual([]);
    for (const max of [Number.POSITIVE_INFINITY, 1e9, 2.7, 1]) await membersWithRole(runtime, t.id, ["admin"], { max });
    expect(asked).toEqual([100, 100, 2, 1]);
    // A tenant the registry does not hold: nothing asked of the lookup (no directory opened).
    expect(await membersWithRole(runtime, `no-such-${crypto.randomUUID()}`, ["admin"])).toEqual([]);
    expect(asked).toEqual([100, 100, 2, 1]);
  });
});
