// `npx biome check <files>` is the documented pre-commit step (and the scaffold runs it). Biome's
// type scanner read the generated SDK types (src/generated/api.d.ts, ~12 000 lines) and printed a
// "reached the limit of 200,000 types … potential bug, please report it" warning on every run, which
// a new user takes for a broken checkout. The file is force-ignored (`!!`) in biome.json.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("biome check", () => {
  it("checks a module's routes without warnings about the generated SDK types", () => {
    const biome = spawnSync(join(root, "node_modules/.bin/biome"), ["check", "src/modules/blog/routes.ts"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(biome.status, biome.stdout + biome.stderr).toBe(0);
    expect(biome.stdout + biome.stderr).not.toContain("src/generated/api.d.ts");
  }, 60_000);
});
