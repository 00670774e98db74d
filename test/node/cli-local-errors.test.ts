// The local commands of `plinth` (run without a plinth: audit verify, new module, modules,
// db) and scripts/jwt-keys.mjs, on stderr: an error the CLI did not expect is exit 5 and one
// line (its stack only with PLINTH_DEBUG=1), not a Node stack trace; under --json, whatever a
// local command prints on stderr is one JSON object a line, as the remote commands' is.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, plinth } from "./plinth-cli";

const ROOT = path.resolve(import.meta.dirname, "../..");
const INJECTED = path.join(import.meta.dirname, "support", "injected-bug.mjs");

describe("a bug in a local command", () => {
  it("exits 5 with one line, the stack only with PLINTH_DEBUG=1", async () => {
    const env = { NODE_OPTIONS: `--import=${INJECTED}` };
    const run = await plinth(["new", "module", "zzinjectedbug"], env);
    expect(run.status, run.stderr).toBe(5);
    expect(run.stderr.trim().split("\n")).toEqual([
      "plinth: internal error (a bug in plinth): injected: a bug in the scaffold",
    ]);
    expect(existsSync(path.join(ROOT, "src", "modules", "zzinjectedbug"))).toBe(false);

    const debug = await plinth(["new", "module", "zzinjectedbug"], { ...env, PLINTH_DEBUG: "1" });
    expect(debug.status).toBe(5);
    expect(debug.stderr).toMatch(/^plinth: internal error \(a bug in plinth\): injected: a bug in the scaffold\n/);
    expect(debug.stderr).toContain("scaffold.mjs");
  });
});

describe("--json on a local command's stderr", () => {
  it("a usage error of modules list|validate and db migrate|renumbered is one JSON line", async () => {
    for (const args of [
      ["modules", "list", "--json"],
      ["modules", "validate", "--json"],
      ["db", "migrate", "--json"],
      ["db", "renumbered", "--json"],
      ["db", "--json"],
    ]) {
      const run = await plinth(args);
      expect(run.status, args.join(" ")).toBe(2);
      const [line, ...more] = jsonLines(run.stderr);
      expect(more, args.join(" ")).toEqual([]);
      expect(line, args.join(" ")).toMatchObject({ error: "usage", exit_code: 2 });
      expect(String(line?.usage ?? line?.commands), args.join(" ")).toMatch(/plinth (modules|db) /);
    }
  });
});

describe("scripts/jwt-keys.mjs", () => {
  it("an existing value it cannot read from stdin is one line and exit 1, not a stack trace", () => {
    // stdin a directory: reading it fails (EISDIR), as a closed or unreadable stdin would.
    const run = spawnSync("sh", ["-c", `"${process.execPath}" scripts/jwt-keys.mjs --rotate - < /`], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual(["jwt-keys: cannot read the existing value from stdin: EISDIR"]);
  });
});
