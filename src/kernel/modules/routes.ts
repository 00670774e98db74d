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
  const seen = new Set<string>();
  for (const route of mountedOf(def)) {
    const path = keyOf("", route.path);
    // `/x/:id` and `/x/:key` of one module are one route here (its own duplicate is refused above).
    if (seen.has(keyOf(route.method, route.path))) continue;
    seen.add(keyOf(route.method, route.path));
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
 * The method of `later`'s requests that `earlier`, mounted before it, answers every one of, or
 * null: their methods must meet (an `.all()` route's is every method; an `.all()` after a GET
 * loses its GET requests only) and `later`'s path must be matched by `earlier`'s, with as many
 * segments, each of `earlier`'s equal to `later`'s or a plain parameter. A trailing `/*` matches
 * its prefix and everything under it (Hono's `/api/v1/*` answers `/api/v1` too), so a module's
 * `.all("/*")` at `base_path: ""` covers every module mounted after it. A parameter with a pattern
 * (`:id{[0-9]+}`) or a wildcard elsewhere may match less, so it is never taken to cover.
 */
function taken(earlier: Mounted, later: Mounted): string | null {
  const method = earlier.method === "ALL" || earlier.method === later.method ? later.method : earlier.method;
  if (earlier.method !== "ALL" && later.method !== "ALL" && earlier.method !== later.method) return null;
  const a = earlier.path.split("/");
  const b = later.path.split("/");
  const plain = (segment: string) => /^:[^{]+$/.test(segment);
  if (a.at(-1) === "*" && !a.slice(0, -1).some((segment) => segment.includes("*"))) {
    const prefix = a.slice(0, -1);
    const under =
      b.length >= prefix.length &&
      prefix.every((segment, i) => !b[i]?.includes("*") && (segment === b[i] || plain(segment)));
    return under ? method : null;
  }
  if (`${earlier.path}${later.path}`.includes("*")) return null;
  const covers = a.length === b.length && a.every((segment, i) => segment === b[i] || plain(segment));
  return covers ? method : null;
}

/** What a route never reached is told: by which route, and for which method when it loses only one. */
function neverReached(route: Mounted, first: Mounted, method: string, whose: string): string {
  const by = method === route.method ? "" : ` by ${method}`;
  const what = method === route.method ? "request" : `${method} request`;
  return (
    `route "${route.method} ${shown(route.path)}" is never reached${by}: "${first.method} ${shown(first.path)}" ` +
    `${whose}, mounted before it, answers every ${what} it would`
  );
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
      // A module's own GET before its own .all() at a path the GET's covers: the .all() is the
      // fallback for the other methods, as a module writes it on purpose.
      const fallback = (r: Mounted) => r.module === route.module && route.method === "ALL" && r.method !== "ALL";
      const first = before.find((r) => !sameRoute(r, route) && !fallback(r) && taken(r, route) !== null);
      if (first) {
        problems.push({
          module: def.name,
          problem: `${neverReached(route, first, taken(first, route) ?? route.method, `of module "${first.module}"`)} (declare the more specific route first, or use another path)`,
        });
      }
      before.push(route);
    }
  }
  return problems;
}

/** A route as the app lists it (`app.routes`): middleware too. */
interface Listed {
  method: string;
  path: string;
  handler: unknown;
}

/**
 * Module routes that lose their requests to a kernel route, or take a kernel route's. The kernel
 * mounts its routes (`/healthz`, `/metrics`, `/api/v1/platform/…`) before every module's, so a
 * module's route one of them covers is never reached (an `.all("/healthz")` among a module's
 * `root_routes`, or at `/api/v1` with `base_path: ""`, would never see a GET while it answered
 * `POST /healthz`), and `/openapi.json` and `/docs` after them, so a module's route covering one
 * of those would take the kernel's. `before` and `after` are the app's routes mounted before and
 * after the modules' (middleware is left out, as everywhere here); `ordered` the modules.
 */
export function kernelRouteProblems(
  ordered: readonly ModuleDef[],
  before: readonly Listed[],
  after: readonly Listed[],
): RegistryProblem[] {
  const kernel = (routes: readonly Listed[]): Mounted[] => {
    const unique = new Map<string, Mounted>();
    for (const r of routes) {
      if (!isMiddlewareRoute(r) && !unique.has(keyOf(r.method, r.path)))
        unique.set(keyOf(r.method, r.path), { module: "kernel", method: r.method, path: r.path });
    }
    return [...unique.values()];
  };
  const first = kernel(before);
  const last = kernel(after);
  const problems: RegistryProblem[] = [];
  for (const def of ordered) {
    for (const route of mountedOf(def)) {
      const earlier = first.find((k) => taken(k, route) !== null);
      if (earlier) {
        const method = taken(earlier, route) ?? route.method;
        problems.push({
          module: def.name,
          problem: `${neverReached(route, earlier, method, "of the kernel")} (use another path)`,
        });
      }
      for (const k of last) {
        const method = taken(route, k);
        if (method === null) continue;
        problems.push({
          module: def.name,
          problem:
            `route "${route.method} ${shown(route.path)}" answers every ${method} request of the kernel's ` +
            `"${k.method} ${shown(k.path)}", mounted after the modules' routes, so the kernel's would never be reached (use another path)`,
        });
      }
    }
  }
  return problems;
}
