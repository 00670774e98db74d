import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";

const root = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(name) ? [path] : [];
  });
}

describe("published events", () => {
  it("every event type the tenant directory emits is declared by a module's manifest", () => {
    const declared = new Set(modules.flatMap((m) => m.events?.publishes ?? []));
    const emitted = new Set<string>();
    for (const file of [...sources(join(root, "src")), ...sources(join(root, "durable-objects"))]) {
      for (const m of readFileSync(file, "utf8").matchAll(/\.emit\(\s*ctx,\s*"([a-z0-9_.]+)"/g)) {
        if (m[1]) emitted.add(m[1]);
      }
    }
    expect(emitted.size).toBeGreaterThan(15);
    expect([...emitted].filter((type) => !declared.has(type)).sort()).toEqual([]);
  });
});
