import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { Clock } from "../clock";
import type { AppEnv } from "../env";
import { AppError, missingTable, normaliseError, problemResponse } from "../errors";
import { ConfigError } from "../errors/config-error";
import type { MigrationWatch } from "../health/pending-migrations";
import { errorFields } from "../log";
import { loggerOf } from "./init";
import { missingTableError } from "./missing-table";
import { isMiddlewareRoute } from "./route-kind";

interface RouteEntry {
  method: string;
  path: string;
  handler: unknown;
}

/** Compiles a Hono path pattern (`/a/:id/*`) into a matcher. */
function compile(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) {
        const custom = segment.match(/^:[^{]+\{(.+)\}\??$/);
        return custom ? `(?:${custom[1]})` : "[^/]+";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  // Exactly as Hono's router matches (strict: `/users/` is not `/users`), so a path the
  // router does not serve is never told that the method it used is allowed.
  return new RegExp(`^${source}$`);
}

/**
 * Knows which methods each path answers, so an unmatched request can be told
 * 405 with `Allow` instead of 404 when the path exists. Only endpoints count: a
 * middleware given a method (`.get("/*", mw)`, route-kind.ts) answers no path.
 */
export function methodIndex(routes: readonly RouteEntry[]): (path: string) => string[] {
  const entries = routes
    .filter((r) => r.method !== "ALL" && !isMiddlewareRoute(r))
    .map((r) => ({ method: r.method, matcher: compile(r.path) }));
  return (path) => {
    const methods = new Set<string>();
    for (const e of entries) if (e.matcher.test(path)) methods.add(e.method);
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

/** 404 `not_found`, or 405 `method_not_allowed` with `Allow` when the path exists. */
export function notFound(allowed: (path: string) => string[]): NotFoundHandler<AppEnv> {
  return (c: Context<AppEnv>) => {
    const methods = allowed(c.req.path);
    const error =
      methods.length > 0
        ? new AppError("method_not_allowed", {
            detail: `${c.req.method} is not allowed on ${c.req.path}`,
            headers: { Allow: methods.join(", ") },
          })
        : new AppError("not_found", { detail: `no route for ${c.req.method} ${c.req.path}` });
    return problemResponse(error, c.get("requestId"));
  };
}

/**
 * Renders everything thrown as problem+json. Expected errors pass through
 * with their code; anything else is logged with its stack and leaves as
 * `internal` carrying only the request id. A read of a missing table is told
 * apart by whether a migration is pending, as `watch` (the read guard's) sees it.
 */
export function errorHandler(watch: MigrationWatch): ErrorHandler<AppEnv> {
  return async (err, c) => {
    const table = missingTable(err);
    if (table !== null) return missingTableResponse(c, err, table, watch);
    // No clock before `init` ran (its own config_invalid): nothing thrown that early needs the time.
    const now = (c.get("clock") as Clock | undefined)?.now().getTime();
    const { error, expected } = normaliseError(err, c.req.method, now);
    if (!expected) logUnexpected(c, err, error);
    return problemResponse(error, c.get("requestId"));
  };
}

/**
 * Logs, once, a failure the client is told about as a 5xx. A ConfigError (errors/config-error.ts)
 * is the operator's to fix in a variable, so it gets no stack (which points at the code that met
 * it, as for a bug): one line naming the variable and what is wrong with it (its message never
 * holds a value), or none when it was logged already where it was met (in this Worker or in the
 * object that threw it: rpcClient rebuilds it). Anything else is a bug: "unhandled error" with its stack.
 */
function logUnexpected(c: Context<AppEnv>, err: unknown, error: AppError): void {
  if (err instanceof ConfigError) {
    if (!err.logged)
      loggerOf(c).error(`${err.variable} is invalid: what needs it fails until it is fixed`, {
        code: error.code,
        ...errorFields(err),
      });
    return;
  }
  loggerOf(c).error("unhandled error", errorFields(err));
}

/**
 * The migrations pending, looked at again (a missing table may mean the watch's settled
 * answer is stale: it un-settles, and the read guard refuses reads, when one is); null
 * when that cannot be told, which the answer takes for a rollout under way.
 */
async function pendingNow(c: Context<AppEnv>, watch: MigrationWatch): Promise<readonly string[] | null> {
  try {
    return (await watch.recheck(c.env, c.get("clock").now().getTime()))?.pending ?? null;
  } catch (error) {
    loggerOf(c).warn("missing table: applied migrations unreadable", errorFields(error));
    return null;
  }
}

async function missingTableResponse(c: Context<AppEnv>, err: unknown, table: string, watch: MigrationWatch) {
  const pending = await pendingNow(c, watch);
  // Said to the operator with the fix: a migration to apply, or a table to restore.
  if (pending !== null && pending.length === 0) {
    loggerOf(c).error("read-model table missing although its migrations are applied", {
      table,
      hint: "restore it (a rename or drop by hand?); /readyz names every missing table",
      ...errorFields(err),
    });
  } else {
    loggerOf(c).error("read-model table missing: migrations not applied", {
      table,
      ...(pending ? { pending } : {}),
      hint: "apply them: npx plinth db migrate (--remote for a deployed database)",
      ...errorFields(err),
    });
  }
  return problemResponse(missingTableError(pending, err), c.get("requestId"));
}
