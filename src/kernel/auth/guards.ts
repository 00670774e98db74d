import type { Context, MiddlewareHandler } from "hono";
import type { Permission } from "../../generated/permissions";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { deny } from "./deny";
import { grants } from "./permissions";
import type { Principal, Tenant } from "./types";

/** The request's tenant; 400 `tenant_required` when none was named. */
export function tenantOf(c: Context<AppEnv>): Tenant {
  const tenant = c.get("tenant");
  if (!tenant) {
    throw new AppError("tenant_required", {
      detail: "name the tenant with a credential, its subdomain, or the X-Tenant header",
    });
  }
  return tenant;
}

/**
 * Refuses a request of a tenant that may not be served, whoever asks (a key, a
 * token, a login form, a signed URL). Suspended: 403 `tenant_suspended`, with no
 * reason (that is the operator's word to the tenant's administrators, in their
 * audit log). Deleted (being erased): 404 `tenant_not_found`, exactly what an
 * unknown slug answers: its users learn nothing of the offboarding, and a name
 * that is gone looks like one that never was.
 */
export function refuseUnavailable(tenant: Pick<Tenant, "status"> | null | undefined): void {
  if (tenant?.status === "suspended")
    throw new AppError("tenant_suspended", { detail: "this tenant is suspended by the platform operator" });
  if (tenant?.status === "deleting") throw new AppError("tenant_not_found", { detail: "no such tenant" });
}

/**
 * {@link refuseUnavailable} for a tenant a route learnt other than through the request path's
 * resolution (a signed URL names its own): looked up in the registry, if the platform has one.
 */
export async function refuseUnavailableTenant(c: Context<AppEnv>, tenantId: string): Promise<void> {
  const registry = c.get("tenantLookup");
  if (registry) refuseUnavailable(await registry.byId(tenantId, c));
}

/** How a refusal names each kind of credential to the client. */
const CREDENTIAL_NAMES: Record<Principal["kind"], string> = {
  user: "a user's access token",
  api_key: "an API key",
  platform: "the platform root key",
};

/** The request's principal of one of `kinds`; 401 without a credential, 403 for another kind. */
export function principalOf<K extends Principal["kind"]>(
  c: Context<AppEnv>,
  ...kinds: K[]
): Extract<Principal, { kind: K }> {
  const principal = c.get("principal");
  if (!principal) throw new AppError("unauthenticated", { detail: "this route needs a credential" });
  if (!(kinds as string[]).includes(principal.kind)) {
    throw new AppError("forbidden", { detail: `this route does not accept ${CREDENTIAL_NAMES[principal.kind]}` });
  }
  return principal as Extract<Principal, { kind: K }>;
}

/** Whether the principal holds `permission`. */
export function can(principal: Principal, permission: string): boolean {
  return principal.kind !== "platform" && grants(principal.grants, permission);
}

/** Middleware: a tenant is named. */
export const requireTenant = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  tenantOf(c);
  await next();
};

/** Middleware: the platform root key. */
export const requirePlatform = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  principalOf(c, "platform");
  await next();
};

/** Middleware: a tenant principal (user or API key). */
export const requirePrincipal = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  principalOf(c, "user", "api_key");
  tenantOf(c);
  await next();
};

/**
 * Middleware: a signed-in user of the tenant, never an API key (a route of one's own account:
 * its password, two-factor, sessions). It runs before validation, so a key learns that it cannot
 * call the route before it is told how to fill a body it could never send. The handler then
 * narrows with `principalOf(c, "user")`, which this guard has already made hold.
 */
export const requireUser = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  principalOf(c, "user");
  tenantOf(c);
  await next();
};

/** Middleware: a tenant principal holding `permission`; 403 names the missing permission. */
export const requirePermission =
  (permission: Permission): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const principal = principalOf(c, "user", "api_key");
    tenantOf(c);
    if (!can(principal, permission)) throw deny(c, { permission, detail: `missing permission ${permission}` });
    await next();
  };
