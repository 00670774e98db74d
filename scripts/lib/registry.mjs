// Loads the registered modules in plain Node for the CLI: src/modules/index.ts
// and the kernel's registry, bundled with esbuild (the WASM core is never
// instantiated here, so .wasm files load as empty).
import { join } from "node:path";
import { getTableName } from "drizzle-orm";
import { root } from "./env.mjs";
import { importBundled } from "./node-bundle.mjs";

/**
 * The module list and the registry's functions.
 * @returns {Promise<{ modules: object[], resolveModules: Function, publishedBy: Function, ModuleRegistryError: Function, isMiddlewareRoute: Function }>}
 */
export async function loadRegistry() {
  const out = join(root, "node_modules", ".cache", "plinth-cli", "registry.mjs");
  return /** @type {any} */ (
    importBundled(out, {
      stdin: {
        contents: [
          'export { modules } from "./src/modules/index.ts";',
          'export { ModuleRegistryError, publishedBy, resolveModules } from "./src/kernel/modules/registry.ts";',
          'export { isMiddlewareRoute } from "./src/kernel/http/route-kind.ts";',
        ].join("\n"),
        resolveDir: root,
        loader: "ts",
      },
    })
  );
}

/**
 * The SQL names of a module's `tables` (its drizzle tables, keyed by their TypeScript names),
 * sorted: the read-model rows a deleted tenant's erasure deletes by `tenant_id`.
 */
export function tableNamesOf(m) {
  return Object.values(m.tables ?? {})
    .map((table) => getTableName(table))
    .sort();
}

/**
 * A module's own rate-limit policies (`rate_limits`), sorted by name, each with what it allows:
 * `inventory.write (60/60s sync)`, and `, tenant up to 600` when a tenant may set its own. The
 * names are what RATE_LIMITS and a tenant's settings take (docs/modules.md, "Rate limits of your own").
 */
export function rateLimitsOf(m) {
  return Object.entries(m.rate_limits ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, p]) => {
      const tenant = p.tenant_override ? `, tenant up to ${p.max_limit}` : "";
      return `${name} (${p.limit}/${p.period_s}s ${p.mode}${tenant})`;
    });
}

/**
 * The HTTP operations a module mounts, from its Hono router: `METHOD /api/v1/…/{id}`, an
 * `.all()` endpoint as `ALL`. Middleware (`.use()`, `.get("/*", mw)`) serves nothing and is left
 * out, told as the kernel tells it: `isMiddlewareRoute` of src/kernel/http/route-kind.ts, which
 * `loadRegistry` bundles.
 * @param {{ name: string, base_path?: string, routes?: { routes: { method: string, path: string, handler: unknown }[] }, root_routes?: { routes: { method: string, path: string, handler: unknown }[] } }} m
 * @param {(route: { method: string, handler: unknown }) => boolean} isMiddlewareRoute
 */
export function routesOf(m, isMiddlewareRoute) {
  const base = `/api/v1${m.base_path ?? `/${m.name}`}`;
  // As Hono mounts a sub-app's "/" (the scaffold's root routes): at the base itself, since
  // the base with a trailing slash answers 404.
  const own = (m.routes?.routes ?? [])
    .filter((r) => !isMiddlewareRoute(r))
    .map((r) => `${r.method} ${openApiPath(r.path === "/" ? base : `${base}${r.path}`)}`);
  const root = (m.root_routes?.routes ?? [])
    .filter((r) => !isMiddlewareRoute(r))
    .map((r) => `${r.method} ${openApiPath(r.path)}`);
  return [...new Set([...own, ...root])];
}

// Hono's router spells a path parameter `:id`; the docs and the OpenAPI document a client
// reads spell it `{id}`. The same rewrite @hono/zod-openapi applies when it writes that document.
function openApiPath(path) {
  return path.replaceAll(/:([^/]+)/g, "{$1}");
}
