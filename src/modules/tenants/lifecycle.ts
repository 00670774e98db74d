import { unknownTenantId } from "../../kernel/auth/unknown-tenant";
import { AppError } from "../../kernel/errors";
import type { ExpectedVersion } from "../../kernel/http/if-match";
import { staleVersion } from "../../kernel/http/stale-version";
import { directory } from "../identity/directory/contract";
import type { TenantChange, TenantState } from "../identity/directory/tenant-state";
import type { TenantRecord } from "./domain";
import { erasureStore } from "./erasure-store";
import { forgetTenant } from "./lookup";
import type { PlatformCall } from "./service";
import { tenantStore } from "./store";

/**
 * The 404 for a platform route's tenant id that no tenant has: with the slug hint, or, for a
 * tenant whose erasure finished, when that was (its tombstone: the operator's proof of erasure).
 */
export async function unknownTenant(db: D1Database, id: string): Promise<AppError> {
  const erasedAt = await erasureStore(db)
    .erasedAt(id)
    .catch(() => null);
  if (erasedAt) {
    return new AppError("not_found", {
      detail: `tenant ${id} was erased at ${erasedAt}; nothing of it is kept but its id and that time`,
    });
  }
  return unknownTenantId(id, (slug) => tenantStore(db).find("slug", slug), "the platform route");
}

/**
 * Why a suspension the directory did not apply is refused: the tenant was suspended already, for
 * another reason than the one asked. The directory keeps the first suspension's time and reason
 * (a repeat changes nothing, so a retry is harmless), and answering 200 with the first reason
 * dropped the new one without a word. A retry with the same reason, or with none, is no conflict.
 * null: nothing to refuse.
 */
export function keptSuspension(
  change: TenantChange,
  outcome: { tenant: TenantState; changed: boolean },
): string | null {
  const { tenant, changed } = outcome;
  if (change.kind !== "suspend" || changed || change.reason === null) return null;
  if (tenant.status !== "suspended" || tenant.suspended_reason === change.reason) return null;
  const held = tenant.suspended_reason === null ? "with no reason" : `for ${JSON.stringify(tenant.suspended_reason)}`;
  return `tenant ${tenant.id} is already suspended, since ${tenant.suspended_at}, ${held}: the reason ${JSON.stringify(change.reason)} is not recorded; to change it, resume the tenant and suspend it again`;
}

/**
 * An operator's change of a tenant: its name or plan, a suspension or a
 * resumption. The tenant's directory (its single writer) applies it and
 * records the `tenants.tenant.*` event in one transaction, so the tenant's
 * audit log says who did it; then the registry copies the state the
 * directory answered with, and this isolate forgets its cached copy (other
 * isolates within the lookup's 30 s). Should the copy fail, the operator's
 * retry finds the directory already changed (no second event) and copies it;
 * a retry with the old `If-Match` is 412, and copies it too.
 */
export async function changeTenant(
  env: Env,
  input: { id: string; change: TenantChange; expectedVersion?: ExpectedVersion | undefined },
  call: PlatformCall,
): Promise<TenantRecord> {
  const { id, change, expectedVersion } = input;
  const store = tenantStore(env.DB);
  // The registry first: an unknown id must not reach (and so create) a directory object.
  const known = await store.find("id", id);
  if (!known) throw await unknownTenant(env.DB, id);
  const dir = directory(env, id);
  const result = await dir.changeTenant({
    ctx: call.origin(),
    change,
    expectedVersion,
  });
  if (!result.ok) {
    if (result.error === "not_found") throw new AppError("not_found", { detail: "no such tenant" });
    // The registry may lag the directory (a copy that failed): bring it up to date, so the
    // version a GET then shows is one If-Match accepts, rather than the stale one again.
    const current = await dir.tenantState();
    if (current) await store.mirror(current);
    forgetTenant(known);
    throw staleVersion("the tenant", result.current_version);
  }
  const state = result.value.tenant;
  await store.mirror(state);
  forgetTenant(known);
  const kept = keptSuspension(change, result.value);
  if (kept) throw new AppError("conflict", { detail: kept });
  return {
    ...known,
    name: state.name,
    plan: state.plan,
    status: state.status,
    suspended_at: state.suspended_at,
    suspended_reason: state.suspended_reason,
    version: state.version,
  };
}
