// The examples a module author copies from the docs compile as shown: a snippet that
// leans on a name only some folder has (a `platform` in scope, a contract never written)
// fails at its reader's first save.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** The `n`th ```ts block of a docs page. */
function snippet(page: string, n = 0): string {
  const blocks = [...readFileSync(join(root, "docs", page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)];
  const block = blocks[n]?.[1];
  if (block === undefined) throw new Error(`docs/${page} has no ts block ${n}`);
  return block;
}

/** tsc's complaints about `source`, compiled as a file one folder below the root (as durable-objects/ is). */
function compile(source: string): string {
  // A folder beside durable-objects/, so the snippet's "../src/…" imports resolve as in the docs.
  const dir = mkdtempSync(join(root, ".docs-snippet-"));
  try {
    writeFileSync(join(dir, "snippet.ts"), source);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../tsconfig.json",
        include: ["snippet.ts", "../src/worker-env.d.ts", "../wasm/wasm.d.ts", "../test/env.d.ts"],
      }),
    );
    const tsc = spawnSync(join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", join(dir, "tsconfig.json")], {
      encoding: "utf8",
    });
    return tsc.status === 0 ? "" : tsc.stdout + tsc.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ```ts block of a docs page whose first line is `first`. */
function snippetStarting(page: string, first: string): string {
  const blocks = [...readFileSync(join(root, "docs", page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)];
  const block = blocks.map((b) => b[1] ?? "").find((b) => b.startsWith(first));
  if (block === undefined) throw new Error(`docs/${page} has no ts block starting ${first}`);
  return block;
}

describe("docs snippets", () => {
  it("docs/modules.md: the repeat-safe projection of the blog's events compiles as written", () => {
    // Written as a file of src/modules/authorstats/; compiled one folder below the root.
    const source = snippetStarting("modules.md", "// src/modules/authorstats/")
      .replaceAll('"../../', '"../src/')
      .replaceAll('"../blog/', '"../src/modules/blog/');
    expect(compile(source)).toBe("");
  }, 120_000);

  it("docs/actors.md: the Reminders actor compiles as written (its clock, its contract, its imports)", () => {
    expect(compile(snippet("actors.md"))).toBe("");
  }, 120_000);
});
