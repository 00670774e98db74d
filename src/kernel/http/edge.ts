import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError, missingTable, normaliseError, problemResponse } from "../errors";
import { pendingMigrations } from "../health/migration-tables";
import { errorFields } from "../log";
import { targetOf } from "../read-models/db";
import { loggerOf } from "./init";
import { missingTableError } from "./missing-table";

interface RouteEntry {
  method: string;
  path: string;
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
 * 405 with `Allow` instead of 404 when the path exists.
 */
export function methodIndex(routes: readonly RouteEntry[]): (path: string) => string[] {
  const entries = routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, matcher: compile(r.path) }));
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
 * apart by whether a migration is pending (`migrations`: those shipped).
 */
export function errorHandler(migrations: readonly string[]): ErrorHandler<AppEnv> {
  return async (err, c) => {
    const table = missingTable(err);
    if (table !== null) return missingTableResponse(c, err, table, migrations);
    const { error, expected } = normaliseError(err, c.req.method);
    if (!expected) loggerOf(c).error("unhandled error", errorFields(err));
    return problemResponse(error, c.get("requestId"));
  };
}

/**
 * Whether D1's migration record speaks for the read models: not with READ_MODEL_URL, where a
 * deploy may have migrated D1 and not libSQL (`plinth db migrate` does both; `/readyz`'s
 * `read_models` check tells), so a table missing there is never called the operator's to restore.
 */
function onD1(env: Env): boolean {
  try {
    return targetOf(env).kind === "d1";
  } catch {
    return false;
  }
}

async function missingTableResponse(c: Context<AppEnv>, err: unknown, table: string, migrations: readonly string[]) {
  const pending = onD1(c.env) ? await pendingMigrations(c.env.DB, migrations) : null;
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
