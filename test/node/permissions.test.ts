import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../../src/generated/permissions";
import { modules } from "../../src/modules";

const root = join(import.meta.dirname, "..", "..");

/** Route files of every module: routes.ts and anything under routes/. */
function routeFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.ts$/.test(name) && (/routes/.test(path) || name === "index.ts")) files.push(path);
    }
  };
  walk(join(root, "src", "modules"));
  return files;
}

describe("permissions", () => {
  it("the generated constants list exactly what the modules declare", () => {
    const declared = [...new Set(modules.flatMap((m) => m.permissions ?? []))].sort();
    expect([...ALL_PERMISSIONS]).toEqual(declared);
  });

  it("no route spells a permission as a string literal (routes use PERMISSIONS constants)", () => {
    const literal = new RegExp(`["'\`](${ALL_PERMISSIONS.map((p) => p.replace(/\./g, "\\.")).join("|")})["'\`]`);
    const offenders: string[] = [];
    const files = routeFiles();
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          // Module manifests (index.ts `permissions: [...]`) are where permissions are declared.
          if (literal.test(line) && !/^\s*permissions:/.test(line))
            offenders.push(`${file.slice(root.length + 1)}:${i + 1}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
