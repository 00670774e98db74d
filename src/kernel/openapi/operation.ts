import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Permission } from "../../generated/permissions";
import { requirePermission, requirePlatform, requirePrincipal, requireTenant, requireUser } from "../auth/guards";
import type { AppEnv } from "../env";
import { utf8JsonOnly } from "../http/json-charset";
import { streamedBody } from "../http/streamed-body";
import { declaresIfMatch, refuseIfMatch } from "./unversioned";

/**
 * Who may call an operation: anyone naming a tenant (`tenant`), any tenant
 * principal (`principal`), a signed-in user of the tenant and never an API key
 * (`user`: the routes of one's own account), a principal holding a permission,
 * or the platform root key (`platform`).
 */
export type Access = "tenant" | "principal" | "user" | "platform" | Permission;

/** An operation as a module declares it: what `createRoute` takes, with `access` in place of security and middleware. */
export type OperationSpec = Omit<RouteConfig, "method" | "path" | "tags" | "security" | "middleware"> & {
  access: Access;
  /**
   * The handler reads the body as a stream (`c.req.raw.body`) and enforces
   * its own size limit while it reads, e.g. a file upload larger than
   * `MAX_BODY_BYTES`: the kernel's buffered body limit steps aside, and an
   * `Idempotency-Key` fingerprints the body by its `Content-Digest`.
   */
  streamsBody?: boolean;
};

function guard(access: Access): MiddlewareHandler<AppEnv> {
  switch (access) {
    case "tenant":
      return requireTenant();
    case "principal":
      return requirePrincipal();
    case "user":
      return requireUser();
    case "platform":
      return requirePlatform();
    default:
      return requirePermission(access);
  }
}

/**
 * The operation's security requirement: none for `tenant`; for `user`, the `user` scheme (a
 * user's access token, which a key does not satisfy; see routes.ts); else the bearer credential,
 * with the permission it needs as the requirement's role (OpenAPI 3.1 lets any scheme name roles),
 * so a client, and a test walking the document (test/gateway/member-privilege.test.ts), reads who
 * may call it without reading the source. `principal` and `platform` name none: the handler decides.
 */
function securityOf(access: Access): Record<string, string[]>[] {
  if (access === "tenant") return [];
  if (access === "user") return [{ user: [] }];
  return [{ bearer: access === "principal" || access === "platform" ? [] : [access] }];
}

/**
 * A module's operation builders: `get`, `post`, `put`, `patch`, `delete`, each
 * taking a path and an {@link OperationSpec}, and returning what
 * `createRoute` returns, with the module's tags, the bearer security and the
 * access guard filled in. Handlers are still written inline after the path,
 * with `.openapi(route, handler)`, so path and validator types flow.
 *
 * @example
 * const op = operations(["blog"]);
 * const get = op.get("/posts/{id}", {
 *   operationId: "getPost", summary: "One post", access: PERMISSIONS.blog.post.read,
 *   request: { params: IdParam }, responses: { 200: jsonResponse("the post", PostSchema) },
 * });
 */
export function operations(tags: string[]) {
  const define =
    <M extends RouteConfig["method"]>(method: M) =>
    <const P extends string, const S extends OperationSpec>(path: P, spec: S) => {
      const { access, streamsBody, ...rest } = spec;
      // The type admits only an access, but a PERMISSIONS constant read before `npm run generate`
      // made it is undefined at run time (`npm start` does not typecheck): refuse it as the module
      // loads, or the route would admit "*" keys, refuse members and fail other keys with a 500.
      if (typeof access !== "string") {
        throw new Error(
          `operation ${method.toUpperCase()} ${path} (${rest.operationId ?? "no operationId"}): access is ${String(access)}, ` +
            `not "tenant", "principal", "user", "platform" or a permission; a PERMISSIONS constant that does not exist yet? ` +
            "Declare the permission in the module's manifest and run npm run generate",
        );
      }
      return createRoute({
        ...rest,
        method,
        path,
        tags,
        security: securityOf(access),
        middleware: [
          guard(access),
          // A write whose resource has no versions must not seem to honour If-Match.
          ...(method !== "get" && !declaresIfMatch(rest.request?.headers) ? [refuseIfMatch] : []),
          ...(streamsBody ? [streamedBody] : []),
          // A JSON body is read as UTF-8: one declared in another charset is refused, not misread.
          ...(!streamsBody && rest.request?.body?.content?.["application/json"] ? [utf8JsonOnly] : []),
        ],
      });
    };
  return {
    get: define("get"),
    post: define("post"),
    put: define("put"),
    patch: define("patch"),
    delete: define("delete"),
  };
}
