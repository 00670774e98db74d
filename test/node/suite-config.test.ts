// vitest.config.ts runs the workerd suite in one workerd per test worker with every
// Durable Object pinned in memory (vitest.bindings.ts says why). A pinned object is never
// restarted, so a test that restarts objects must be listed to run in a workerd of its own.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Miniflare } from "miniflare";
import { describe, expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import {
  NEEDS_EVICTION,
  pinnedDurableObjects,
  TEST_WORKERD_AUTOGATES,
  testWranglerConfig,
  useTestWorkerdAutogates,
} from "../../vitest.bindings";

const ROOT = join(import.meta.dirname, "..", "..");
// What cloudflare:test offers that restarts (or deletes) Durable Objects.
const RESTARTS = ["abortAllDurableObjects", "evictAllDurableObjects", "evictDurableObject", "reset"];

/**
 * Whether `source` imports one of RESTARTS from cloudflare:test and calls it. Asked by name, not by
 * a pattern over the text: a comment saying a user "completes the reset (docs/…)" read as a call.
 */
function restartsObjects(source: string): boolean {
  // Each name imported, with the local name it is called by (`reset as wipe` is called `wipe`).
  const imported = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*["']cloudflare:test["']/g)].flatMap((m) =>
    (m[1] ?? "").split(",").map((spec) => {
      const [name = "", local = name] = spec.trim().split(/\s+as\s+/);
      return { name, local };
    }),
  );
  const code = source.replace(/\/\/.*$/gm, "");
  return imported.some(({ name, local }) => RESTARTS.includes(name) && new RegExp(`\\b${local}\\s*\\(`).test(code));
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(ROOT, path)] : [];
  });
}

describe("the workerd suite's configuration", () => {
  it("runs every test file that restarts Durable Objects where objects can be evicted", () => {
    const restarting = testFiles(join(ROOT, "test"))
      .filter((file) => !file.startsWith(join("test", "node")))
      .filter((file) => {
        const source = readFileSync(join(ROOT, file), "utf8");
        return restartsObjects(source);
      });
    expect(restarting.length).toBeGreaterThan(0);
    expect(restarting.filter((file) => !NEEDS_EVICTION.includes(file))).toEqual([]);
  });

  it("pins every Durable Object wrangler.toml declares, and the extra ones it is given", async () => {
    const wranglerToml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    const top = wranglerToml.slice(0, wranglerToml.search(/^\[env\./m));
    const declared = [...top.matchAll(/^\[\[durable_objects\.bindings\]\]\s*\nname = "(\w+)"/gm)].map((m) => m[1]);
    const pinned = await pinnedDurableObjects(join(ROOT, "wrangler.toml"), { EXTRA: { className: "Extra" } });
    expect(Object.keys(pinned).sort()).toEqual([...declared, "EXTRA"].sort());
    for (const object of Object.values(pinned)) expect(object.unsafePreventEviction).toBe(true);
  });

  it("refuses a test-only object whose binding or class a module's wrangler.toml entry also takes", async () => {
    // A team naming its actor as docs/actors.md's example does (Reminders, bound as REMINDERS) met the
    // suite's fixture of that name: its tests reached the fixture's class, and tsc failed on the fixture's test.
    const { durableObjects = {} } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions;
    const [binding, designator] = Object.entries(durableObjects)[0] ?? [];
    const className = typeof designator === "string" ? designator : (designator as { className: string }).className;
    const byBinding = pinnedDurableObjects(join(ROOT, "wrangler.toml"), { [String(binding)]: { className: "Extra" } });
    await expect(byBinding).rejects.toThrow(
      `test-only Durable Object binding ${binding} is also bound in wrangler.toml`,
    );
    const byClass = pinnedDurableObjects(join(ROOT, "wrangler.toml"), { EXTRA: { className } });
    await expect(byClass).rejects.toThrow(
      `test-only Durable Object class ${className} (EXTRA) is also bound in wrangler.toml`,
    );
  });

  it("starts the test run's workerd with its autogates, and everyone else's with the config as shipped", async () => {
    // Miniflare writes the config it hands workerd to this file (its own debugging switch).
    const dir = mkdtempSync(join(tmpdir(), "plinth-autogates-"));
    const saved = { gates: process.env.PLINTH_WORKERD_AUTOGATES, debug: process.env.MINIFLARE_WORKERD_CONFIG_DEBUG };
    /** Starts a Miniflare as the pool does, and answers the autogates workerd was given and the Worker's reply. */
    const started = async (run: number): Promise<{ autogates: unknown; reply: string }> => {
      const configFile = join(dir, `config-${run}.json`);
      process.env.MINIFLARE_WORKERD_CONFIG_DEBUG = configFile;
      const mf = new Miniflare({
        modules: true,
        script: 'export default { fetch() { return new Response("served"); } };',
      });
      try {
        const reply = await (await mf.dispatchFetch("http://localhost/")).text();
        return { autogates: JSON.parse(readFileSync(configFile, "utf8")).autogates, reply };
      } finally {
        await mf.dispose();
      }
    };
    try {
      useTestWorkerdAutogates();
      // workerd started from the config with the gate, and serves.
      expect(await started(1)).toEqual({ autogates: TEST_WORKERD_AUTOGATES, reply: "served" });
      delete process.env.PLINTH_WORKERD_AUTOGATES;
      expect(await started(2)).toEqual({ autogates: undefined, reply: "served" });
    } finally {
      for (const [name, value] of [
        ["PLINTH_WORKERD_AUTOGATES", saved.gates],
        ["MINIFLARE_WORKERD_CONFIG_DEBUG", saved.debug],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the pool a wrangler.toml that wrangler finds no .dev.vars beside, with the same vars and paths", () => {
    const dir = mkdtempSync(join(tmpdir(), "plinth-suite-config-"));
    try {
      cpSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
      // What a developer may have set for npm start; the suite must not see it.
      writeFileSync(join(dir, ".dev.vars"), 'METRICS_TOKEN="set-for-npm-start-0123"\nLOG_LEVEL="debug"\n');
      const bindingsOf = (config: string) => {
        const { workerOptions, main } = unstable_getMiniflareWorkerOptions(config);
        return { bindings: workerOptions.bindings ?? {}, main };
      };
      // With the real file wrangler loads .dev.vars (what the suite used to get)...
      expect(bindingsOf(join(dir, "wrangler.toml")).bindings).toMatchObject({
        METRICS_TOKEN: "set-for-npm-start-0123",
      });
      // ...with the copy it does not, and keeps wrangler.toml's own vars and entry point.
      const copied = bindingsOf(testWranglerConfig(join(dir, "wrangler.toml")));
      expect(copied.bindings).not.toHaveProperty("METRICS_TOKEN");
      expect(copied.bindings).toMatchObject({ ENVIRONMENT: "development", LOG_LEVEL: "info" });
      expect(copied.main).toBe(join(dir, "src", "index.ts"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
