// npm start applying a migration generated while plinth runs (scripts/lib/dev-migrations.mjs):
// applied first, then listed in src/generated/migrations.ts, so the running Worker knows it.
import { describe, expect, it } from "vitest";
import { applyNewMigrations, type NewMigrationSteps } from "../../scripts/lib/dev-migrations.mjs";

function steps(over: Partial<NewMigrationSteps> = {}) {
  const calls: string[] = [];
  const said: string[] = [];
  const ports: NewMigrationSteps = {
    migrateD1: async () => {
      calls.push("d1");
      return { code: 0, output: "", applied: ["0012_orders.sql"] };
    },
    migrateLibsql: null,
    listMigrations: async () => {
      calls.push("list");
      return { code: 0, output: "generate: wrote src/generated/migrations.ts\n" };
    },
    say: (line) => said.push(line),
    ...over,
  };
  return { ports, calls, said };
}

describe("a migration generated under npm start", () => {
  it("is applied, then listed for the running build", async () => {
    // The list stayed as it was: the Worker called the new migration "applied but not shipped",
    // and its read guard never saw one pending.
    const { ports, calls, said } = steps();
    expect(await applyNewMigrations(["0012_orders.sql"], ports)).toBe(true);
    expect(calls).toEqual(["d1", "list"]);
    expect(said.join("\n")).toContain("local D1 migrated (0012_orders.sql)");
    expect(said.at(-1)).toContain("src/generated/migrations.ts lists it now");
  });

  it("applies libSQL's too before listing, when read models live there", async () => {
    const { ports, calls, said } = steps({
      migrateLibsql: async () => {
        calls.push("libsql");
        return { before: 11, after: 12 };
      },
    });
    expect(await applyNewMigrations(["0012_orders.sql"], ports)).toBe(true);
    expect(calls).toEqual(["d1", "libsql", "list"]);
    expect(said.join("\n")).toContain("libSQL read models migrated (1 applied, 12 in all)");
  });

  it("lists nothing when the migration failed: the list would claim what the database lacks", async () => {
    const { ports, calls, said } = steps({
      migrateD1: async () => {
        calls.push("d1");
        return { code: 1, output: '✘ near "tabel": syntax error\n', applied: [] };
      },
    });
    expect(await applyNewMigrations(["0012_orders.sql"], ports)).toBe(false);
    expect(calls).toEqual(["d1"]);
    expect(said.join("\n")).toContain('near "tabel": syntax error');
    expect(said.at(-1)).toContain("npx plinth db migrate");
  });

  it("says so when the local D1 had applied the file's name already: it applies a name once, so the new content is not in it", async () => {
    // The module drill: the scaffold's migration, applied at once by npm start, deleted and
    // generated again under the same name for the reshaped table. D1 applied nothing, npm start
    // said nothing, and the projection waited in the queue for a column that would never come.
    const { ports, calls, said } = steps({
      migrateD1: async () => {
        calls.push("d1");
        return { code: 0, output: "", applied: [] };
      },
    });
    expect(await applyNewMigrations(["0012_notes.sql"], ports, { rewritten: true })).toBe(true);
    expect(calls).toEqual(["d1", "list"]);
    const text = said.join("\n");
    expect(said[0]).toBe("plinth: migration 0012_notes.sql changed; applying what is pending to the local D1…");
    expect(text).toContain("the local D1 applied 0012_notes.sql before, under that name");
    expect(text).toContain("rm -rf .wrangler/state");
    expect(text).toContain("a migration of its own");
  });

  it("applies a changed migration that the local D1 had not applied (one that failed), and warns of nothing", async () => {
    const { ports, said } = steps();
    expect(await applyNewMigrations(["0012_orders.sql"], ports, { rewritten: true })).toBe(true);
    expect(said.join("\n")).toContain("local D1 migrated (0012_orders.sql)");
    expect(said.join("\n")).not.toContain("rm -rf");
  });

  it("says what to run when the list could not be written", async () => {
    const { ports, said } = steps({
      listMigrations: async () => ({
        code: 1,
        output: "generate: migrations/0012_orders.sql adds the NOT NULL column\n",
      }),
    });
    expect(await applyNewMigrations(["0012_orders.sql"], ports)).toBe(false);
    expect(said.at(-1)).toContain("run: npm run generate");
  });
});
