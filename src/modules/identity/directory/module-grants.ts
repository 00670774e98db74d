import { covers } from "../../../kernel/auth/permissions";
import type { Origin } from "../../../kernel/events/origin";
import type { Roles } from "./roles";
import type { DirectoryStore } from "./store";
import { MAX_ROLE_PERMISSIONS, type RoleView } from "./types";

/** One permission a module grants one default role (`ModuleDef.grants`). */
export interface Grant {
  role: string;
  permission: string;
}

/** The modules' grants by role, as the registry merges them. */
export type DeclaredGrants = Readonly<Record<string, readonly string[]>>;

/** What a sync did: the grants it added to roles, how many it recorded, and whether it was the baseline. */
export interface GrantSync {
  added: Grant[];
  recorded: number;
  baseline: boolean;
}

const keyOf = (g: Grant) => `${g.role}\u0000${g.permission}`;

/** The declared grants as (role, permission) pairs, without repeats. */
export function grantPairs(grants: DeclaredGrants): Grant[] {
  const seen = new Map<string, Grant>();
  for (const [role, permissions] of Object.entries(grants)) {
    for (const permission of permissions) seen.set(keyOf({ role, permission }), { role, permission });
  }
  return [...seen.values()];
}

/**
 * Decides a sync without reading or writing anything. Only grants not in the ledger count:
 * one applied before (and perhaps removed by an admin since) is never added again. Each is
 * recorded whether or not it changes a role: a role the admin deleted is not re-created, and
 * a role that already covers the permission (`*`, `*.read`) needs nothing. A grant its role
 * has no room for ({@link MAX_ROLE_PERMISSIONS}) is neither added nor recorded, so a later sync
 * adds it once an admin made room: past the limit, no reply could carry the role. On the
 * baseline sync nothing is added: the roles predate the ledger, so a missing grant may be an
 * admin's removal.
 */
export function planGrants(
  declared: readonly Grant[],
  applied: ReadonlySet<string>,
  roles: readonly RoleView[],
  baseline: boolean,
): { record: Grant[]; changed: RoleView[]; added: Grant[] } {
  const fresh = declared.filter((g) => !applied.has(keyOf(g)));
  if (baseline) return { record: fresh, changed: [], added: [] };
  const changed: RoleView[] = [];
  const added: Grant[] = [];
  const waiting = new Set<Grant>();
  for (const role of roles) {
    const missing = fresh.filter((g) => g.role === role.name && !covers(role.permissions, g.permission));
    const room = Math.max(0, MAX_ROLE_PERMISSIONS - role.permissions.length);
    for (const g of missing.slice(room)) waiting.add(g);
    const adding = missing.slice(0, room);
    if (adding.length === 0) continue;
    changed.push({ ...role, permissions: [...role.permissions, ...adding.map((g) => g.permission)] });
    added.push(...adding);
  }
  return { record: fresh.filter((g) => !waiting.has(g)), changed, added };
}

/**
 * The directory's ledger of module grants applied to its default roles (the `applied_grants`
 * table), and the sync that brings grants declared after a tenant was created to its roles.
 */
export class GrantLedger {
  constructor(
    private readonly store: DirectoryStore,
    private readonly roles: Roles,
  ) {}

  private get sql() {
    return this.store.sql;
  }

  /** Records grants as applied at `now`; one recorded before keeps its first time. Call inside `tx`. */
  record(grants: readonly Grant[], now: string): void {
    for (const g of grants) {
      this.sql.exec(
        "insert into applied_grants (role, permission, applied_at) values (?, ?, ?) on conflict do nothing",
        g.role,
        g.permission,
        now,
      );
    }
  }

  private applied(): Set<string> {
    return new Set(
      this.sql
        .exec<{ role: string; permission: string }>("select role, permission from applied_grants")
        .toArray()
        .map(keyOf),
    );
  }

  private baselinePending(): boolean {
    return this.sql.exec<{ n: number }>("select count(*) as n from grant_baseline").one().n > 0;
  }

  /**
   * Adds the declared grants not yet applied to the roles lacking them, each role change as
   * `identity.role.updated` by `ctx.actor` (as an admin's PUT is), and records them; all in one
   * transaction. A directory without a tenant (never created, or erased) is left untouched.
   */
  sync(ctx: Origin, declared: readonly Grant[]): GrantSync {
    if (this.store.tenantId() === null) return { added: [], recorded: 0, baseline: false };
    return this.store.tx(() => {
      const baseline = this.baselinePending();
      const plan = planGrants(declared, this.applied(), this.roles.list(), baseline);
      for (const role of plan.changed) this.roles.replace(ctx, role);
      this.record(plan.record, ctx.now);
      if (baseline) this.sql.exec("delete from grant_baseline");
      return { added: plan.added, recorded: plan.record.length, baseline };
    });
  }
}
