// The wrangler.toml edit of `plinth new module <name> --actor`, on the shapes of file a team may
// have. The scaffold as a whole (the module with its per-tenant actor wired as docs/actors.md's
// checklist wires one by hand, which typechecks, lints and passes its own tests in workerd as
// generated) runs in test/node/scaffold.test.ts, in the copy of the repository that checks the
// plain module: one compiler run, one lint and one workerd run for both.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { actorClass, actorNamesOf, actorProblems, bindActor } from "../../scripts/lib/scaffold-actor.mjs";
import { bound, resolved } from "./support/wrangler-config";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

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

/**
 * The generated class, bundled over stand-ins for what it imports from src/ (the real base needs
 * workerd): an Actor whose object is bound to `ctx.tenant`, as bindTenant would have done, which
 * keeps the options it is given, and which names no escalation address, as the real base does by
 * default; the module's manifest is its own name's.
 */
async function actorOf(name: string) {
  const a = actorNamesOf(name);
  const stubs = `export class Actor {
    constructor(ctx, _env, options) { this.ctx = ctx; this.options = options; }
    boundTenant() { return this.ctx.tenant ?? null; }
    escalationAddress() { return null; }
  }
  export const manifest = { name: ${JSON.stringify(name)} };
  export const findTenant = () => null;
  export const rpcArgs = (_c, _n, input) => input;
  export const ${a.Rpc} = {};`;
  const out = await build({
    stdin: {
      contents: actorClass(a),
      loader: "ts",
      resolveDir: join(import.meta.dirname, "..", "..", "durable-objects"),
    },
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "src-stubs",
        setup(b) {
          b.onResolve({ filter: /^\.\.\/src\// }, (args) => ({ path: args.path, namespace: "stub" }));
          b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: stubs, loader: "js" }));
        },
      },
    ],
  });
  const mod = await import(
    `data:text/javascript;base64,${Buffer.from(out.outputFiles[0]?.text ?? "").toString("base64")}`
  );
  const factory = mod[a.factory] as (platform: unknown) => new (ctx: unknown, env: unknown) => unknown;
  return (tenant: string | null) =>
    new (factory({ clock: {}, modules: [] }))({ tenant }, {}) as {
      options: { module?: string };
      escalationAddress(): unknown;
    };
}

describe("the generated actor's escalations", () => {
  // Without an address, the base logs a failing actor's backoff without its tenant (the log could
  // not say which tenant's object failed) and sends no actor.escalated to the tenant's audit log.
  it("go to its tenant's stream once it is bound, as the file store's do", async () => {
    const actor = await actorOf("gizmos");
    expect(actor("t-1").escalationAddress()).toEqual({ tenantId: "t-1", stream: "t-1/gizmos" });
    expect(actor(null).escalationAddress()).toBeNull();
  }, 60_000);
});

describe("the generated actor's events", () => {
  // Without its module's name the actor may emit nothing but actor.escalated: the first event the
  // team adds is refused (UndeclaredEvent) though its module declares it.
  it("are its module's: its options name the module, by the manifest's name", async () => {
    const actor = await actorOf("gizmos");
    expect(actor(null).options.module).toBe("gizmos");
  }, 60_000);
});
