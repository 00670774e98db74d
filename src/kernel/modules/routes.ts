import { OpenAPIHono } from "@hono/zod-openapi";
import { isMiddlewareRoute } from "../http/route-kind";
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

/** A path as clients and `/openapi.json` spell it: Hono's `:id` (with any pattern) as `{id}`. */
function shown(path: string): string {
  return path.replace(/:([^/{]+)(\{[^}]*\})?/g, "{$1}");
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
  const claimed = new Map<string, Map<string, Mounted>>();
  for (const def of defs) {
    const mounts: [string, Router | undefined][] = [
      [`/api/v1${def.base_path ?? `/${def.name}`}`, def.routes],
      ["", def.root_routes],
    ];
    for (const [prefix, router] of mounts) {
      for (const route of router ? declaredTwice(router, prefix) : []) {
        problems.push({
          module: def.name,
          problem: `route "${route}" is declared twice (only the first handler would run, and /openapi.json would describe the last)`,
        });
      }
    }
    const own = new Set<string>();
    for (const route of mountedOf(def)) {
      const key = keyOf(route.method, route.path);
      const owner = owners.get(key);
      if (own.has(key)) continue;
      own.add(key);
      if (owner === undefined) owners.set(key, def.name);
      else
        problems.push({
          module: def.name,
          problem: `route "${route.method} ${route.path}" is already served by module "${owner}"`,
        });
    }
    problems.push(...methodClashes(def, claimed));
  }
  return problems;
}

/**
 * An `.all()` route and another module's route of one method at the same path (`GET /x` beside
 * `.all("/x")`), whichever registers first: Hono answers that method with the one mounted first, so
 * the other's is never reached, while the `.all()` still answers every other method, so nothing
 * shows it. Each method of a path has one owner; `claimed` holds, by path, the methods claimed so
 * far and their modules (`ALL` for an `.all()` route), and takes `def`'s.
 */
function methodClashes(def: ModuleDef, claimed: Map<string, Map<string, Mounted>>): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const mine: [string, Mounted][] = [];
  for (const route of mountedOf(def)) {
    const path = keyOf("", route.path);
    for (const other of claimed.get(path)?.values() ?? []) {
      if (other.method !== "ALL" && route.method !== "ALL") continue;
      if (other.method === "ALL" && route.method === "ALL") continue; // the same route: routeProblems says so
      const method = route.method === "ALL" ? other.method : route.method;
      problems.push({
        module: def.name,
        problem:
          `route "${route.method} ${shown(route.path)}" and route "${other.method} ${shown(other.path)}" of module ` +
          `"${other.module}" both answer ${method} ${shown(route.path)}: only the one mounted first would (an .all() route ` +
          `answers every method; one module owns each method of a path)`,
      });
    }
    mine.push([path, route]);
  }
  for (const [path, route] of mine) {
    const methods = claimed.get(path) ?? new Map<string, Mounted>();
    if (!methods.has(route.method)) methods.set(route.method, route);
    claimed.set(path, methods);
  }
  return problems;
}

/** A route as mounted: its module, method and full path (Hono's `:param` syntax), in mount order. */
interface Mounted {
  module: string;
  method: string;
  path: string;
}

/** A module's routes in the order the app mounts them (its root routes, then the rest), each once. */
function mountedOf(def: ModuleDef): Mounted[] {
  const mounted = new Map<string, Mounted>();
  const mounts: [string, Router | undefined][] = [
    ["", def.root_routes],
    [`/api/v1${def.base_path ?? `/${def.name}`}`, def.routes],
  ];
  for (const [prefix, router] of mounts) {
    for (const r of router?.routes ?? []) {
      const path = join(prefix, r.path);
      // Middleware (`.use()`, a handler taking `next`: http/route-kind.ts) passes the request on,
      // so it serves no route; an `.all()` endpoint answers every method at its path as if it
      // were each method's route.
      if (isMiddlewareRoute(r)) continue;
      if (!mounted.has(`${r.method} ${path}`))
        mounted.set(`${r.method} ${path}`, { module: def.name, method: r.method, path });
    }
  }
  return [...mounted.values()];
}

/**
 * Whether every request `later` matches, `earlier` matches too: the same method (or `earlier` an
 * `.all()` route, which matches every method) and number of segments, each of `earlier`'s equal
 * to `later`'s or a plain parameter. A parameter with a pattern (`:id{[0-9]+}`) or a wildcard may
 * match less, so it is never taken to cover.
 */
function covers(earlier: Mounted, later: Mounted): boolean {
  if (earlier.method !== later.method && earlier.method !== "ALL") return false;
  if (`${earlier.path}${later.path}`.includes("*")) return false;
  const a = earlier.path.split("/");
  const b = later.path.split("/");
  return a.length === b.length && a.every((segment, i) => segment === b[i] || /^:[^{]+$/.test(segment));
}

/**
 * Whether two routes are one route for {@link routeProblems}: the same method and path, or, of two
 * modules, an `.all()` route and another route at its path (one module's `.all("/x")` before its
 * own `GET /x` is its own dead route, left here).
 */
function sameRoute(a: Mounted, b: Mounted): boolean {
  if (keyOf("", a.path) !== keyOf("", b.path)) return false;
  return a.method === b.method || (a.module !== b.module && (a.method === "ALL" || b.method === "ALL"));
}

/**
 * Routes no request reaches: Hono answers with the first route mounted that matches, so a route
 * after one that matches everything it does (`/orders/search` after `/orders/{id}`, or a module
 * at `/api/v1/users` after identity's `/users/{id}`) never runs. `ordered` is the mount order:
 * modules in dependency order, each module's routes as declared. Routes that are the same ({@link sameRoute}) are
 * left to {@link routeProblems}.
 */
export function shadowProblems(ordered: readonly ModuleDef[]): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const before: Mounted[] = [];
  for (const def of ordered) {
    for (const route of mountedOf(def)) {
      const first = before.find((r) => !sameRoute(r, route) && covers(r, route));
      if (first) {
        problems.push({
          module: def.name,
          problem:
            `route "${route.method} ${shown(route.path)}" is never reached: "${first.method} ${shown(first.path)}" of module ` +
            `"${first.module}", mounted before it, answers every request it would (declare the more specific route first, or use another path)`,
        });
      }
      before.push(route);
    }
  }
  return problems;
}
