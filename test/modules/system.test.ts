import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { modules } from "../../src/modules";

describe("system module", () => {
  it("reports the package version, the injected commit and every registered module, dependencies first", async () => {
    const res = await SELF.fetch("http://plinth.test/api/v1/system/info");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as {
      version: string;
      commit: string;
      modules: { name: string; version: string }[];
    };
    expect({ version: body.version, commit: body.commit }).toEqual({ version: pkg.version, commit: "test-commit" });
    // Every registered module once, whatever the list holds (a product team's modules too)...
    const registered = modules.map((m) => ({ name: m.name, version: m.version }));
    expect([...body.modules].sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      registered.sort((a, b) => a.name.localeCompare(b.name)),
    );
    // ...each after the modules it depends on.
    const position = new Map(body.modules.map((m, i) => [m.name, i]));
    for (const m of modules) {
      for (const dependency of Object.keys(m.depends_on ?? {})) {
        expect(position.get(dependency), `${dependency} before ${m.name}`).toBeLessThan(position.get(m.name) ?? -1);
      }
    }
  });
});
