// `plinth modules validate`'s look at the Durable Objects the modules bind. A module's object
// whose class has no `ping` was found only by /readyz at run time ("does not answer ping"),
// and one that wrangler.toml does not bind, or that src/index.ts does not export, only when
// wrangler dev or the deploy refused to start. The manifests name the bindings; wrangler.toml
// names each binding's class; src/index.ts exports the classes: with the three, all of that
// is said before anything runs.
import { join } from "node:path";
import { importBundled } from "./node-bundle.mjs";

const STEPS = 'docs/modules.md, "Durable Objects of your own"';

/**
 * The class each Durable Object binding at wrangler.toml's top level names (what npm start and
 * the tests bind), read with wrangler's own parser as `npm run generate` reads it.
 * @param {string} root @returns {Promise<Record<string, string>>}
 */
export async function boundClasses(root) {
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
  return Object.fromEntries((config.durable_objects?.bindings ?? []).map((b) => [b.name, b.class_name]));
}

/**
 * What is wrong with wrangler.toml, in a line, from the error its parser threw: where (a
 * syntax error carries its line and column) and what. The error itself also carries the
 * whole file, which a stack trace would print.
 * @param {any} error @returns {string}
 */
export function wranglerTomlProblem(error) {
  const at = error?.location ? `:${error.location.line}:${error.location.column}` : "";
  return `wrangler.toml${at}: ${error?.text ?? error?.message ?? String(error)}`;
}

/**
 * What src/index.ts exports, loaded in Node: bundled with esbuild, `cloudflare:workers` given a
 * bare `DurableObject` base and the tracing wrapper its identity (it returns the class as is
 * when tracing is off, as it is here), `.wasm` files empty (no crypto runs at load).
 * @param {string} root @returns {Promise<Record<string, unknown>>}
 */
export async function workerExports(root) {
  const out = join(root, "node_modules", ".cache", "plinth-cli", `worker-${process.pid}.mjs`);
  const stubs = {
    "cloudflare:workers":
      "export const env = {}; export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }",
    instrument: "export function tracingFor() { return { handler: (h) => h, object: (c) => c }; }",
  };
  const entry = join(root, "src", "index.ts");
  return importBundled(
    out,
    {
      entryPoints: [entry],
      plugins: [
        {
          name: "worker-stubs",
          setup(/** @type {any} */ b) {
            b.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: "cloudflare:workers", namespace: "stub" }));
            // Only the entry's own import: the telemetry library needs the runtime's modules.
            b.onResolve({ filter: /\/telemetry\/instrument$/ }, (/** @type {any} */ a) =>
              a.importer === entry ? { path: "instrument", namespace: "stub" } : undefined,
            );
            b.onLoad({ filter: /.*/, namespace: "stub" }, (/** @type {any} */ a) => ({
              contents: stubs[/** @type {keyof typeof stubs} */ (a.path)],
              loader: "js",
            }));
          },
        },
      ],
    },
    { remove: true },
  );
}

/**
 * The problems of the Durable Object bindings the modules declare (each binding once, named
 * with the first module declaring it, as /readyz names it): not bound at wrangler.toml's top
 * level, its class not exported by src/index.ts, or the class without `ping`, which /readyz
 * calls on every such object.
 * @param {readonly { name: string, bindings?: Readonly<Record<string, string>> }[]} modules
 * @param {Readonly<Record<string, string>>} classes binding → class, from wrangler.toml
 * @param {Readonly<Record<string, unknown>>} exports what src/index.ts exports
 * @returns {{ module: string, problem: string }[]}
 */
export function objectProblems(modules, classes, exports) {
  const seen = new Set();
  const problems = [];
  for (const m of modules) {
    for (const [binding, kind] of Object.entries(m.bindings ?? {})) {
      if (kind !== "durable_object" || seen.has(binding)) continue;
      seen.add(binding);
      const problem = bindingProblem(m.name, binding, classes[binding], exports);
      if (problem) problems.push({ module: m.name, problem });
    }
  }
  return problems;
}

function bindingProblem(module, binding, className, exports) {
  if (className === undefined) {
    return `declares the Durable Object binding ${binding}, which wrangler.toml does not bind at its top level (${STEPS}, step 2)`;
  }
  const cls = exports[className];
  if (typeof cls !== "function") {
    return `${binding} is bound in wrangler.toml to the class ${className}, which src/index.ts does not export (${STEPS}, step 1)`;
  }
  if (typeof cls.prototype?.ping !== "function") {
    return `${className} (${binding}, declared by the ${module} module) does not answer ping, so its /readyz check fails: add PingRpc to its contract in src/index.ts (traced.object(…, PingRpc)) and implement ping (an actor does)`;
  }
  return null;
}
