import { OpenAPIHono } from "@hono/zod-openapi";
import type { RegistryProblem } from "./registry";
import type { ModuleDef } from "./types";

/** A router as a module hands it over: its routes, one entry per handler and middleware. */
type Router = NonNullable<ModuleDef["routes"]>;

/**
 * One route's identity for Hono: the method and the path with every parameter made
 * anonymous, since `/x/{id}` and `/x/:order_id` match the same requests.
 */
function keyOf(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.replace(/\{[^}/]+\}|:[^/]+/g, ":")}`;
}

/** Where a router is mounted joined to one of its paths, as the app mounts it (`/` adds nothing). */
function join(prefix: string, path: string): string {
  return `${prefix}${path === "/" ? "" : path}` || "/";
}

/**
 * The operations declared on `router` more than once, as written. Only an OpenAPI router
 * says what was declared: a plain router lists each middleware of a route as a route too.
 */
function declaredTwice(router: Router, prefix: string): string[] {
  if (!(router instanceof OpenAPIHono)) return [];
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const definition of router.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const { method, path } = definition.route;
    const key = keyOf(method, join(prefix, path));
    if (seen.has(key)) twice.push(`${method.toUpperCase()} ${join(prefix, path)}`);
    seen.add(key);
  }
  return twice;
}

/**
 * Every route is served by one handler: a route a module declares twice, or that two
 * modules both mount, is refused. Hono would run only the first handler registered for
 * it (silently), while `/openapi.json` would describe the last, so the reference page and
 * the server would disagree.
 */
export function routeProblems(defs: readonly ModuleDef[]): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const owners = new Map<string, string>();
  for (const def of defs) {
    const mounts: [string, Router | undefined][] = [
      [`/api/v1${def.base_path ?? `/${def.name}`}`, def.routes],
      ["", def.root_routes],
    ];
    const own = new Map<string, string>();
    for (const [prefix, router] of mounts) {
      if (!router) continue;
      for (const route of declaredTwice(router, prefix)) {
        problems.push({
          module: def.name,
          problem: `route "${route}" is declared twice (only the first handler would run, and /openapi.json would describe the last)`,
        });
      }
      for (const r of router.routes) {
        if (r.method === "ALL") continue; // middleware
        const path = join(prefix, r.path);
        if (!own.has(keyOf(r.method, path))) own.set(keyOf(r.method, path), `${r.method} ${path}`);
      }
    }
    for (const [key, route] of own) {
      const owner = owners.get(key);
      if (owner === undefined) owners.set(key, def.name);
      else problems.push({ module: def.name, problem: `route "${route}" is already served by module "${owner}"` });
    }
  }
  return problems;
}
