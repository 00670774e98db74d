// What membersWithRole costs a tenant's directory. It paged through every user of the tenant
// (100 a page) whenever the tenant had fewer holders of the roles than `max`, the usual case: a
// 50,000-user tenant cost ~500 directory calls each time webhooks mailed a disabled-endpoint
// notice. It is one directory call, answered by a read of the roles' bindings (an index by role),
// however many users the tenant has.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { membersWithRole } from "../../src/kernel/auth/member-directory";
import { testRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";

const USERS = 250;
/** Where the admins sit among the users in id order: one in each page of 100 the old walk read. */
const ADMIN_AT = [10, 120, 240];

/** `USERS` users written straight into the tenant's directory (no sign-up: 250 password hashes would be slow). */
async function seed(tenantId: string): Promise<string[]> {
  const ids = Array.from({ length: USERS }, (_, i) => `user-${String(i).padStart(4, "0")}`);
  await runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_: TenantDirectory, state) => {
    const now = new Date().toISOString();
    state.storage.transactionSync(() => {
      for (const [i, id] of ids.entries()) {
        state.storage.sql.exec(
          "insert into users (id, email, name, password_hash, email_verified, created_at, updated_at) values (?, ?, ?, '!none', 1, ?, ?)",
          id,
          `${id}@example.com`,
          `User ${i}`,
          now,
          now,
        );
        state.storage.sql.exec("insert into role_bindings (user_id, role) values (?, 'member')", id);
        if (ADMIN_AT.includes(i))
          state.storage.sql.exec("insert into role_bindings (user_id, role) values (?, 'admin')", id);
      }
    });
  });
  return ids;
}

/** The tenant directory's namespace, with every call made on a stub of it counted by method. */
function countingDirectory() {
  const calls: string[] = [];
  const namespace = {
    getByName: (name: string) => {
      const real = env.TENANT_DIRECTORY.getByName(name);
      return new Proxy(real, {
        get(target, method) {
          const value = Reflect.get(target, method);
          if (typeof method !== "string" || method === "then" || typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls.push(method);
            return Reflect.apply(value, target, args);
          };
        },
      });
    },
  };
  return { calls, namespace: namespace as unknown as Env["TENANT_DIRECTORY"] };
}

describe("membersWithRole's cost", () => {
  it("is one directory call for a tenant of 250 users and 3 admins, not a page per 100 users", async () => {
    const t = await newTenant("roles-cost");
    const ids = await seed(t.id);
    const { calls, namespace } = countingDirectory();
    const runtime = testRuntime();
    const found = await membersWithRole({ ...runtime, env: { ...env, TENANT_DIRECTORY: namespace } }, t.id, [
      "owner",
      "admin",
    ]);
    expect(found.map((m) => m.id)).toEqual(ADMIN_AT.map((i) => ids[i]));
    expect(found[0]).toEqual({
      id: ids[10],
      name: "User 10",
      email: `${ids[10]}@example.com`,
      email_verified: true,
      status: "active",
      roles: ["admin", "member"],
    });
    expect(calls).toHaveLength(1);
  });

  it("reads the roles' bindings and their holders' rows, not the tenant's 250 users", async () => {
    const t = await newTenant("roles-rows");
    await seed(t.id);
    const stub = env.TENANT_DIRECTORY.getByName(t.id);
    const read = await runInDurableObject(stub, (directory: TenantDirectory, state) => {
      // Every statement the call runs, to add up the rows SQLite read for it (what a Durable
      // Object's storage bills, and what the missing index by role made grow with the tenant).
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      const cursors: { readonly rowsRead: number }[] = [];
      sql.exec = <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) => {
        const cursor = exec<T>(query, ...bindings);
        cursors.push(cursor);
        return cursor;
      };
      try {
        const holders = directory.usersWithRole({ roles: ["owner", "admin"], limit: 100 });
        return {
          holders: holders.length,
          statements: cursors.length,
          rows: cursors.reduce((n, c) => n + c.rowsRead, 0),
        };
      } finally {
        sql.exec = exec;
      }
    });
    expect(read.holders).toBe(ADMIN_AT.length);
    expect(read.statements).toBe(1);
    // 3 admins: their bindings, their rows and each one's two roles, and what the planner's own
    // lookups count; a walk of the users or of every binding reads past 250.
    expect(read.rows).toBeLessThan(30);
  });

  it("asks more role names than a tenant may have roles in as few calls as it takes, in id order", async () => {
    const t = await newTenant("roles-many");
    const ids = await seed(t.id);
    const { calls, namespace } = countingDirectory();
    const names = [...Array.from({ length: 150 }, (_, i) => `no-such-role-${i}`), "admin", "Not A Role!"];
    const found = await membersWithRole(
      { ...testRuntime(), env: { ...env, TENANT_DIRECTORY: namespace } },
      t.id,
      names,
    );
    expect(found.map((m) => m.id)).toEqual(ADMIN_AT.map((i) => ids[i]));
    expect(calls).toEqual(["usersWithRole", "usersWithRole"]);
  });
});
