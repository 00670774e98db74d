import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dbCli } from "./db-cli";

const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "plinth-db-unreadable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the project the CLI runs from (its root is where scripts/ is), with node_modules and src linked. */
function project(name: string): string {
  const at = path.join(dir, name);
  mkdirSync(at);
  for (const copied of ["scripts", "migrations", "package.json", "wrangler.toml"]) {
    cpSync(path.join(ROOT, copied), path.join(at, copied), { recursive: true });
  }
  for (const linked of ["node_modules", "src"]) symlinkSync(path.join(ROOT, linked), path.join(at, linked));
  return at;
}

/** Runs the CLI of the project at `root`; its exit code and output. */
const plinth = (root: string, args: string[], env: Record<string, string> = {}) => dbCli(root, args, env);

describe("plinth db on a wrangler.toml it cannot read", () => {
  it("refuses --env with exit 2 naming the file, for migrate and renumbered, whether bad TOML or no file", async () => {
    const root = project("toml");
    writeFileSync(path.join(root, "migrations", "0099_orders.sql"), "create table orders (id text);\n");
    const toml = path.join(root, "wrangler.toml");
    const runs = [
      ["db", "migrate", "--env", "staging", "--persist-to", path.join(root, "d1")],
      ["db", "renumbered", "0099_orders.sql", "--from", "0098_orders.sql", "--env", "staging"],
    ];
    for (const [broken, reason] of [
      [() => writeFileSync(toml, 'name = "plinth\n[[d1_databases'), /Invalid TOML document/],
      [
        () => {
          rmSync(toml);
          mkdirSync(toml);
        },
        /Could not read file/,
      ],
    ] as const) {
      broken();
      for (const args of runs) {
        const run = await plinth(root, args);
        expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(2);
        const [first] = run.stderr.trim().split("\n");
        expect(first).toMatch(
          new RegExp(
            `^plinth ${args.slice(0, 2).join(" ")}: cannot read wrangler\\.toml, so --env staging cannot be checked: `,
          ),
        );
        expect(first).toMatch(reason);
        expect(run.stderr).not.toContain("internal error");
      }
      expect(existsSync(path.join(root, "d1"))).toBe(false);
    }
  }, 120_000);
});

describe("plinth db migrate on a migrations journal it cannot read", () => {
  it("exits 2 naming migrations/meta/_journal.json before applying anything, to D1 or libSQL", async () => {
    const root = project("journal");
    const journal = path.join(root, "migrations", "meta", "_journal.json");
    const persist = path.join(root, "d1");
    const url = `file:${path.join(root, "read-models.db")}`;
    for (const [broken, reason] of [
      [() => writeFileSync(journal, '{"version":"7","entries":['), /not JSON/],
      [() => writeFileSync(journal, '{"version":"7"}'), /no "entries" list/],
      [
        () => {
          rmSync(journal);
          mkdirSync(journal);
        },
        /EISDIR/,
      ],
      [() => rmSync(journal, { recursive: true }), /ENOENT/],
    ] as const) {
      broken();
      const run = await plinth(root, ["db", "migrate", "--persist-to", persist], { READ_MODEL_URL: url });
      expect(run.code, run.stderr).toBe(2);
      const [first] = run.stderr.trim().split("\n");
      expect(first).toMatch(/^plinth db migrate: cannot read migrations\/meta\/_journal\.json \(/);
      expect(first).toMatch(reason);
      expect(run.stdout).not.toContain("applying");
      expect(existsSync(persist)).toBe(false);
      expect(existsSync(path.join(root, "read-models.db"))).toBe(false);
    }
  }, 120_000);
});
