// scripts/patch-deps.mjs (npm's postinstall): the fixes to pinned dependencies are in
// place in this install, and the script applies each to exactly the text it replaces.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyFixes, FIXES } from "../../scripts/patch-deps.mjs";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A scratch install holding `text` at every fix's file. */
function scratch(text: (fix: (typeof FIXES)[number]) => string): string {
  const base = mkdtempSync(join(tmpdir(), "plinth-patch-"));
  dirs.push(base);
  for (const fix of FIXES) {
    mkdirSync(dirname(join(base, fix.file)), { recursive: true });
    writeFileSync(join(base, fix.file), text(fix));
  }
  return base;
}

describe("patch-deps", () => {
  it("every fix is applied in this install (a dependency that changed the text fails here: redo or drop its fix)", () => {
    expect(applyFixes().map(({ fix, state }) => [fix.name, state])).toEqual(
      FIXES.map((fix) => [fix.name, "applied already"]),
    );
  });

  it("replaces the shipped text, once, and leaves the rest of the file alone", () => {
    const base = scratch((fix) => `// head\n${fix.before}\n// tail\n`);
    expect(applyFixes(base).map((r) => r.state)).toEqual(FIXES.map(() => "applied"));
    expect(applyFixes(base).map((r) => r.state)).toEqual(FIXES.map(() => "applied already"));
    for (const fix of FIXES) {
      expect(readFileSync(join(base, fix.file), "utf8")).toBe(`// head\n${fix.after}\n// tail\n`);
    }
  });

  it("leaves text it does not recognise, and a missing package, as they are", () => {
    const base = scratch(() => "export {};\n");
    expect(applyFixes(base).map((r) => r.state)).toEqual(FIXES.map(() => "not recognised"));
    for (const fix of FIXES) expect(readFileSync(join(base, fix.file), "utf8")).toBe("export {};\n");
    const empty = mkdtempSync(join(tmpdir(), "plinth-patch-"));
    dirs.push(empty);
    expect(applyFixes(empty).map((r) => r.state)).toEqual(FIXES.map(() => "absent"));
  });
});
