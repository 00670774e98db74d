// The module contract's rules that the compiler cannot see, checked over the source.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "generated" ? [] : sources(path);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = [...sources(join(root, "src")), ...sources(join(root, "durable-objects"))];

/** `file:line` of every line matching `pattern`, in files not `allowed`. */
function offenders(pattern: RegExp, allowed: (file: string) => boolean = () => false): string[] {
  const found: string[] = [];
  for (const file of files) {
    const rel = relative(root, file);
    if (allowed(rel)) continue;
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (pattern.test(line) && !/^\s*(\/?\*|\/\/)/.test(line)) found.push(`${rel}:${i + 1}`);
      });
  }
  return found;
}

describe("the module contract, over src/ and durable-objects/", () => {
  it("reads no field of a payload or a reply through a cast: they are parsed with their schema", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(offenders(/ as unknown as |JSON\.parse\([^)]*\)\s+as\s|\.body as |reply as /)).toEqual([]);
  });

  it("reaches Durable Objects only through their typed clients", () => {
    expect(offenders(/\.getByName\(/, (f) => /(^|\/)contract\.ts$|aggregate-rpc\.ts$/.test(f))).toEqual([]);
  });

  it("reads the time only from the injected clock", () => {
    expect(offenders(/new Date\(\)|Date\.now\(\)/, (f) => f === "src/kernel/clock/index.ts")).toEqual([]);
  });

  it("reads request variables with c.get(name), never c.var (Hono copies every variable on each c.var access)", () => {
    expect(offenders(/\bc\.var\b/)).toEqual([]);
  });

  it("queries D1 through drizzle: raw SQL only in readiness probes of wrangler's own tables", () => {
    // The round-trip counter forwards other code's statements and writes none of its own.
    const allowed = new Set([
      "src/kernel/health/checks.ts",
      "src/kernel/health/migration-tables.ts",
      "src/kernel/db/counting.ts",
      // The mail dead-letter store's insert refused for a held recipient in the same statement
      // (`insert … select … where not exists`): drizzle's insert-select must name every column of
      // the table, defaults included, so this one statement is written out (notify/dead-letters.ts).
      "src/kernel/notify/dead-letters.ts",
    ]);
    expect(offenders(/\.prepare\(/, (f) => allowed.has(f))).toEqual([]);
  });

  it("reaches read models through readModels(env) (D1 or libSQL): drizzle over the DB binding only in the platform's own stores", () => {
    // Tenants, the API-key index, dead letters and the dev mailbox stay on D1 (docs/read-models.md).
    const platformStores = new Set([
      "src/kernel/read-models/db.ts",
      "src/kernel/events/dead-letters.ts",
      "src/kernel/notify/dead-letters.ts",
      // The replay claims on both dead-letter tables above.
      "src/kernel/queues/replay-claim.ts",
      // Deleted recipients held beside the mail dead letters they refuse (same database).
      "src/kernel/notify/suppressions.ts",
      "src/kernel/notify/mailbox.ts",
      "src/kernel/notify/routes.ts",
      "src/modules/identity/key-index.ts",
      "src/modules/tenants/store.ts",
      "src/modules/tenants/erasure-store.ts",
      // A deleted tenant's erasure deletes its rows from D1's own tables as well as the read models'.
      "src/kernel/erasure/tables.ts",
    ]);
    expect(offenders(/from "drizzle-orm\/d1"/, (f) => platformStores.has(f))).toEqual([]);
  });

  it("registers every module folder, and each has a manifest that imports nothing", () => {
    const index = readFileSync(join(root, "src", "modules", "index.ts"), "utf8");
    const folders = readdirSync(join(root, "src", "modules")).filter((n) =>
      statSync(join(root, "src", "modules", n)).isDirectory(),
    );
    expect(folders.length).toBeGreaterThan(4);
    for (const name of folders) {
      expect(index, `src/modules/${name} is not in src/modules/index.ts`).toContain(`from "./${name}"`);
      const manifest = readFileSync(join(root, "src", "modules", name, "manifest.ts"), "utf8");
      expect(/^import /m.test(manifest), `src/modules/${name}/manifest.ts imports`).toBe(false);
    }
  });
});
