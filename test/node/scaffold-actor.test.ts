// `plinth new module <name> --actor` on a copy of the repository: besides the module, a
// per-tenant actor wired as docs/actors.md's checklist wires one by hand (contract, class,
// export, wrangler.toml bindings in every environment with the next migration tag, erasure),
// which typechecks, lints and passes its own tests in workerd as generated. And the wrangler.toml
// edit itself, on the shapes of file a team may have.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { configProblems } from "../../scripts/lib/deploy-preflight.mjs";
import { actorNamesOf, actorProblems, bindActor } from "../../scripts/lib/scaffold-actor.mjs";

const root = join(import.meta.dirname, "..", "..");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

type Config = Parameters<typeof configProblems>[0];
/** wrangler.toml as wrangler resolves it for `env` (the top level without one). */
async function resolved(dir: string, env?: string): Promise<Config> {
  const { unstable_readConfig } = await import("wrangler");
  return unstable_readConfig({ config: join(dir, "wrangler.toml"), ...(env ? { env } : {}) }) as Config;
}
const bound = (config: Config) =>
  Object.fromEntries((config.durable_objects?.bindings ?? []).map((b) => [b.name, b.class_name]));

describe("the actor's wrangler.toml bindings", () => {
  const a = actorNamesOf("gizmos");

  it("binds it at the top level and in every environment, with objects of its own or none, created by the next tag", async () => {
    const dir = tempDir("plinth-actor-toml-");
    writeFileSync(
      join(dir, "wrangler.toml"),
      [
        'name = "x"',
        'main = "src/index.ts"',
        'compatibility_date = "2025-09-01"',
        "",
        "[[migrations]]",
        'tag = "v1"',
        'new_sqlite_classes = ["JobRunner"]',
        "",
        "[[migrations]]",
        'tag = "v2"',
        'deleted_classes = ["Gone"]',
        "",
        "# ---- staging",
        "[env.staging]",
        'name = "x-staging"',
        "",
        "[[env.staging.durable_objects.bindings]]",
        'name = "JOB_RUNNER"',
        'class_name = "JobRunner"',
        "",
        "[env.staging.vars]",
        'ENVIRONMENT = "staging"',
        "",
        "[env.bare]",
        'name = "x-bare"',
        "",
        "[env.bare.vars]",
        'ENVIRONMENT = "production"',
        "",
      ].join("\n"),
    );
    expect(actorProblems(dir, a)).toEqual([]);
    bindActor(dir, a);
    expect(bound(await resolved(dir))).toEqual({ GIZMOS_ACTOR: "GizmosActor" });
    expect(bound(await resolved(dir, "staging"))).toEqual({ JOB_RUNNER: "JobRunner", GIZMOS_ACTOR: "GizmosActor" });
    expect(bound(await resolved(dir, "bare"))).toEqual({ GIZMOS_ACTOR: "GizmosActor" });
    const top = await resolved(dir);
    expect(top.migrations?.at(-1)).toEqual({ tag: "v3", new_sqlite_classes: ["GizmosActor"] });
    // What was there stays as it was.
    expect((await resolved(dir, "staging")).vars).toEqual({ ENVIRONMENT: "staging" });
    // Bound again, the names are taken: the scaffold refuses before writing anything.
    expect(actorProblems(dir, a)).toEqual([
      'wrangler.toml already names GizmosActor, which the actor of module "gizmos" would be: pick another name',
      'wrangler.toml already names GIZMOS_ACTOR, which the actor of module "gizmos" would be: pick another name',
    ]);
  });

  it("refuses a file whose migration tags are not v<number>: it cannot tell the next one", () => {
    const dir = tempDir("plinth-actor-tags-");
    writeFileSync(join(dir, "wrangler.toml"), '[[migrations]]\ntag = "2025-01-first"\nnew_sqlite_classes = ["A"]\n');
    expect(actorProblems(dir, a)).toEqual([expect.stringContaining("a [[migrations]] tag that is not v<number>")]);
  });
});

describe("plinth new module --actor", () => {
  it("writes a module with a wired per-tenant actor that typechecks, lints and passes its tests as generated", async () => {
    const copy = tempDir("plinth-scaffold-actor-");
    const tracked = (path: string) => !path.includes("/.tmp");
    // What test/node/scaffold.test.ts copies: what tsconfig.json and the test pool read.
    for (const dir of ["src", "durable-objects", "wasm", "test", "scripts", "migrations", "bench"])
      cpSync(join(root, dir), join(copy, dir), { recursive: true, filter: tracked });
    for (const file of [
      "package.json",
      "tsconfig.json",
      "biome.json",
      "drizzle.config.ts",
      "vitest.config.ts",
      "vitest.otel.config.ts",
      "vitest.bindings.ts",
      "vitest.node.config.ts",
      "wrangler.toml",
    ])
      cpSync(join(root, file), join(copy, file));
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    execFileSync("git", ["init", "-q"], { cwd: copy });
    const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: copy, encoding: "utf8" });
    const read = (file: string) => readFileSync(join(copy, file), "utf8");

    const out = await promisify(execFile)(
      process.execPath,
      ["scripts/plinth.mjs", "new", "module", "gadgets", "--actor"],
      {
        cwd: copy,
        encoding: "utf8",
      },
    );
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain("module gadgets (aggregate gadget, actor GadgetsActor) is registered");
    expect(out.stdout).toContain("registered GadgetsActor in src/index.ts and wrangler.toml, bound as GADGETS_ACTOR");
    // Exported under its class name, as a value and a type; its binding typed by that type.
    expect(read("src/index.ts")).toMatch(/export const GadgetsActor = traced\.object\(gadgetsActorObject\(platform\)/);
    expect(read("src/index.ts")).toContain("export type GadgetsActor = InstanceType<typeof GadgetsActor>;");
    expect(read("src/worker-env.d.ts")).toContain(
      'GADGETS_ACTOR: DurableObjectNamespace<import("./index").GadgetsActor>;',
    );
    expect(read("src/generated/objects.ts")).toContain('GADGETS_ACTOR: "GadgetsActor"');
    // Every environment binds it and the deploy's preflight finds its class created.
    const top = await resolved(copy);
    for (const env of ["staging", "production"]) {
      const config = await resolved(copy, env);
      expect(bound(config).GADGETS_ACTOR, env).toBe("GadgetsActor");
      const problems = configProblems({ ...config, migrations: top.migrations }, env, top);
      expect(problems.filter((p) => p.includes("GADGETS_ACTOR") || p.includes("GadgetsActor"))).toEqual([]);
    }
    expect(read("src/modules/gadgets/index.ts")).toContain('bindings: { GADGETS_ACTOR: "durable_object" }');

    const tsc = run(join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.json"]);
    expect(tsc.status, tsc.stdout).toBe(0);
    const lint = run(join(root, "node_modules/.bin/biome"), [
      "ci",
      "src/index.ts",
      "src/modules/gadgets",
      "durable-objects/gadgets-actor.ts",
      "test/modules",
    ]);
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    const validate = run(process.execPath, ["scripts/plinth.mjs", "modules", "validate"]);
    expect(validate.stdout + validate.stderr).toContain("no problems");
    // Its own tests: a reminder fires, a suspended tenant's is dropped, the erasure empties it.
    const tests = run(join(root, "node_modules/.bin/vitest"), ["run", "test/modules/gadgets-actor"]);
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    expect(stripVTControlCharacters(tests.stdout)).toMatch(/Tests {2}3 passed \(3\)/);
  }, 300_000);
});
