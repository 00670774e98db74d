import type { Context, MiddlewareHandler } from "hono";
import type { Permission } from "../../generated/permissions";
import { newId } from "../crypto";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { background } from "../http/background";
import { clientIpHash } from "../http/client-ip";
import { grants } from "./permissions";
import type { Principal, Tenant } from "./types";

/** The request's tenant; 400 `tenant_required` when none was named. */
export function tenantOf(c: Context<AppEnv>): Tenant {
  const tenant = c.var.tenant;
  if (!tenant) {
    throw new AppError("tenant_required", {
      detail: "name the tenant with a credential, its subdomain, or the X-Tenant header",
    });
  }
  return tenant;
}

/** The request's principal of one of `kinds`; 401 without a credential, 403 for another kind. */
export function principalOf<K extends Principal["kind"]>(
  c: Context<AppEnv>,
  ...kinds: K[]
): Extract<Principal, { kind: K }> {
  const principal = c.var.principal;
  if (!principal) throw new AppError("unauthenticated", { detail: "this route needs a credential" });
  if (!(kinds as string[]).includes(principal.kind)) {
    throw new AppError("forbidden", { detail: `this route does not accept a ${principal.kind.replace("_", " ")}` });
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

/** Middleware: a tenant principal holding `permission`; 403 names the missing permission. */
export const requirePermission =
  (permission: Permission): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const principal = principalOf(c, "user", "api_key");
    const tenant = tenantOf(c);
    if (!can(principal, permission)) {
      recordDenial(c, tenant, principal, permission);
      throw new AppError("forbidden", { detail: `missing permission ${permission}` });
    }
    await next();
  };

/**
 * Publishes an `authz.denied` event for the audit log. Best effort: it is sent
 * straight to the EVENTS queue after the response (no outbox), so a queue
 * outage loses it, and the 403 never waits for it or fails because of it.
 * Used by `requirePermission` and by the command bus's authorization step.
 */
export function recordDenial(c: Context<AppEnv>, tenant: Tenant, principal: Principal, permission: Permission): void {
  const path = new URL(c.req.url).pathname;
  const event = {
    id: newId(),
    type: "authz.denied",
    tenant_id: tenant.id,
    stream: `${tenant.id}/authz/${principal.id}`,
    version: 1,
    occurred_at: new Date().toISOString(),
    actor: { kind: principal.kind, id: principal.id },
    data: { permission, method: c.req.method, path },
    request_id: c.var.requestId ?? null,
    ip_hash: clientIpHash(c),
  };
  background(c, c.env.EVENTS.send(event, { contentType: "json" }));
}
