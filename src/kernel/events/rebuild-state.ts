import { AppError } from "../errors";
import type { ModuleRuntime, RebuildSource } from "../modules/types";
import { commit, readModels } from "../read-models";

/** One call of a rebuild from a {@link RebuildSource}: a page of tenants, a budget of records. */
export interface StateRebuildRequest {
  consumer: string;
  tenantId?: string;
  /** The previous call's `next`: a tenant (start after it) or `<position>@<tenant>` (go on inside it). */
  after?: string;
  /** Tenants per call. */
  limit: number;
  /** Records read per call at most; a tenant with more goes on in the next call. */
  maxRecords: number;
}

/** The tenant registry as a rebuild walks it (the route makes it from the TenantLookup). */
export interface TenantWalk {
  /** The registry's tenant ids (suspended ones too) in id order, after `after`, at most `limit`. */
  ids(after: string | undefined, limit: number): Promise<string[]>;
  /** Whether `id` is a tenant of the registry: a cursor naming none is refused, not walked on from. */
  exists(id: string): Promise<boolean>;
}

/** What one call did; `next` is the `after` of the next call (null: done). */
export interface StateRebuildProgress {
  /** Tenants whose records this call read to their end. */
  tenants: number;
  records: number;
  /** Read-model rows the call's writes changed: 0 over an intact read model. */
  written: number;
  next: string | null;
}

/**
 * Where a rebuild goes on: after a whole tenant, or inside one after a position.
 * Tenant ids have no `@` or `/` (kernel/crypto `newId`), so neither form can be
 * taken for the other, nor for a replay's stream cursor.
 */
export function parseStateCursor(after: string): { tenant: string; position?: number } | null {
  const inside = /^(\d+)@([^@/]+)$/.exec(after);
  if (inside) return { tenant: inside[2] ?? "", position: Number(inside[1]) };
  return /^[^@/]+$/.test(after) ? { tenant: after } : null;
}

const refuse = (path: string, message: string): never => {
  throw new AppError("validation_failed", { detail: message, errors: [{ path, message }] });
};

/**
 * The tenants a call visits, in id order: the one asked for, or a page of the
 * registry's. A cursor inside a tenant starts with the rest of that tenant.
 */
async function tenantsOf(
  request: StateRebuildRequest,
  cursor: ReturnType<typeof parseStateCursor>,
  tenants: TenantWalk | undefined,
): Promise<string[]> {
  if (request.tenantId !== undefined) {
    if (cursor && cursor.tenant !== request.tenantId) refuse("body.after", "the cursor is another tenant's");
    return cursor && cursor.position === undefined ? [] : [request.tenantId];
  }
  if (!tenants) return refuse("body.tenant_id", "no module provides the tenant registry: name a tenant");
  if (cursor && !(await tenants.exists(cursor.tenant))) {
    refuse("body.after", `no tenant ${cursor.tenant}: the cursor must be a \`next\` a rebuild answered`);
  }
  if (cursor?.position === undefined) return tenants.ids(cursor?.tenant, request.limit);
  const rest = request.limit > 1 ? await tenants.ids(cursor.tenant, request.limit - 1) : [];
  return [cursor.tenant, ...rest];
}

/**
 * Copies tenants' records from the source into the read model, a source page at a
 * time, each page's writes in one transaction: memory holds one page, and a call
 * that fails leaves what it committed, which a repeat writes again harmlessly (the
 * writes are repeat-safe, so a rebuild racing the live subscription or itself leaves
 * the same rows). A tenant longer than the budget goes on in the next call.
 */
export async function rebuildFromState(
  source: RebuildSource,
  tenants: TenantWalk | undefined,
  runtime: ModuleRuntime,
  request: StateRebuildRequest,
): Promise<StateRebuildProgress> {
  const cursor = request.after === undefined ? null : parseStateCursor(request.after);
  if (request.after !== undefined && !cursor) {
    refuse("body.after", `${request.consumer} is rebuilt from its objects' state: the cursor must be one it answered`);
  }
  const ids = await tenantsOf(request, cursor, tenants);
  const db = readModels(runtime.env);
  const done: StateRebuildProgress = { tenants: 0, records: 0, written: 0, next: null };
  for (const [i, tenantId] of ids.entries()) {
    let after = tenantId === cursor?.tenant ? (cursor.position ?? 0) : 0;
    for (;;) {
      if (done.records >= request.maxRecords) return { ...done, next: `${after}@${tenantId}` };
      const page = await source.page(runtime, tenantId, after, request.maxRecords - done.records);
      done.written += await commit(db, page.writes);
      done.records += page.read;
      after = page.last;
      // A page that read nothing ends the tenant too, so a source that never says done cannot spin.
      if (page.done || page.read === 0) break;
    }
    done.tenants++;
    // Spent at the end of a tenant: the next call starts after it.
    if (done.records >= request.maxRecords && i < ids.length - 1) return { ...done, next: tenantId };
  }
  const full = request.tenantId === undefined && ids.length === request.limit;
  return { ...done, next: full ? (ids.at(-1) ?? null) : null };
}
