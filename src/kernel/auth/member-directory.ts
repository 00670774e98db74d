import type { Context } from "hono";
import type { AppEnv } from "../env";
import { providerOf } from "../modules/providers";
import type { ModuleDef } from "../modules/types";
import { tenantOf } from "./guards";
import { tenantRegistry } from "./tenant-registry";
import type { Member, MemberLookup } from "./types";

/** The member directory: the lookup the one module that keeps tenants' members provides (ModuleDef.auth.members), if any. */
export const memberDirectory = (modules: readonly ModuleDef[]): MemberLookup | undefined =>
  providerOf(modules, "members");

/**
 * A tenant's live member (id, name, email, email_verified, status, roles) read now from the
 * directory, for code with no request: a job or a subscriber (`findMember(runtime, tenantId,
 * userId)`) or a Durable Object built over the platform (`findMember({ env: this.env, modules:
 * platform.modules }, tenantId, userId)`). Null when the tenant has no such user (never had,
 * deleted, or another tenant's), when the tenant is not live (never was, deleted, erased), or
 * when no module keeps members. `tenantId` is one the platform gave you (an event's, the
 * object's bound tenant), never a client's word; even so the registry is asked first (one D1
 * read), as `findTenant` does, so a stale or made-up id opens no directory object (its
 * schema is storage no erasure would remove). Suspended tenants are live: their members are
 * found. The email is personal data: never log it.
 * The caller names no module: the directory is whichever provides the kernel's `MemberLookup`.
 *
 * @example
 * const assignee = await findMember(runtime, event.tenant_id, data.assignee_id);
 * if (assignee?.status !== "active") return; // gone or suspended: nobody to mail
 */
export async function findMember(
  from: { env: Env; modules: readonly ModuleDef[] },
  tenantId: string,
  userId: string,
): Promise<Member | null> {
  const directory = memberDirectory(from.modules);
  if (!directory || !(await registered(from, tenantId))) return null;
  return directory.find(from.env, tenantId, userId);
}

/**
 * Whether the tenant registry knows `tenantId` as live, asked before any directory object is
 * reached; true without a registry (nothing to ask: the directory alone answers).
 */
async function registered(from: { env: Env; modules: readonly ModuleDef[] }, tenantId: string): Promise<boolean> {
  const registry = tenantRegistry(from.modules);
  return !registry || (await registry.find(from.env, tenantId)) !== null;
}

/**
 * {@link findMember} in a route, for the request's own tenant only (400 `tenant_required`
 * without one): a user id a client names (an assignee) is looked up where the caller is, so
 * another tenant's user is null, as an unknown one.
 *
 * @example
 * const assignee = await memberOf(c, body.assignee_id);
 * if (assignee?.status !== "active") throw new AppError("validation_failed", { detail: "no such active member" });
 */
export async function memberOf(c: Context<AppEnv>, userId: string): Promise<Member | null> {
  const directory = c.get("memberLookup");
  return directory ? directory.find(c.env, tenantOf(c).id, userId) : null;
}

/** The most members {@link membersWithRole} answers unless told fewer. */
export const MEMBERS_WITH_ROLE_MAX = 100;

/**
 * A tenant's members holding any of `roles` (its owners and admins, to mail them), in id order,
 * at most `max` (100 unless told, never more; none for 0, a negative or NaN), read now from the directory, for a job, a
 * subscriber or a Durable Object built over the platform, as {@link findMember} (none for a
 * tenant the registry does not hold live, without opening its directory). Suspended
 * members are in it, marked `status: "suspended"`: mail that tells the tenant's business goes
 * to `status === "active" && email_verified` ones only. None without roles, for a tenant the
 * directory does not know, or when no module keeps members. Identity's directory answers it in
 * one call from an index by role: what it reads grows with the roles' holders, not with the
 * tenant's users (a role every user holds, `member`, still reads each of its bindings).
 *
 * @example
 * const admins = await membersWithRole(runtime, tenantId, ["owner", "admin"]);
 * for (const a of admins) if (a.status === "active" && a.email_verified) await notifier.send({ to: a.email, … });
 */
export async function membersWithRole(
  from: { env: Env; modules: readonly ModuleDef[] },
  tenantId: string,
  roles: readonly string[],
  { max = MEMBERS_WITH_ROLE_MAX }: { max?: number } = {},
): Promise<Member[]> {
  const directory = memberDirectory(from.modules);
  // NaN (a `max` computed from something missing) asks for none: it would slip past every
  // comparison below and reach the lookup, which may put it in a LIMIT.
  const bound = Number.isNaN(max) ? 0 : Math.min(Math.max(0, Math.floor(max)), MEMBERS_WITH_ROLE_MAX);
  if (!directory || roles.length === 0 || bound === 0 || !(await registered(from, tenantId))) return [];
  return directory.withRole(from.env, tenantId, roles, bound);
}
