import type { Origin } from "../../../kernel/events/origin";
import { type ExpectedVersion, versionMatches } from "../../../kernel/http/if-match";
import type { DirectoryStore } from "./store";
import { decideTenantChange, type TenantChange, type TenantState } from "./tenant-state";
import { fail, ok, type Result, type VersionConflict, versionConflict } from "./types";

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  slug: string;
  name: string;
  plan: string;
  status: string;
  suspended_at: string | null;
  suspended_reason: string | null;
  version: number;
}

/** The directory's own tenant record: read, and changed together with the event that records the change. */
export class TenantRow {
  constructor(private readonly store: DirectoryStore) {}

  current(): TenantState | null {
    const row = this.store.sql
      .exec<Row>("select id, slug, name, plan, status, suspended_at, suspended_reason, version from tenant")
      .toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status === "suspended" ? "suspended" : "active" };
  }

  /**
   * Applies an operator's change in one transaction with its event, when the
   * tenant is at `expectedVersion` (if given): `not_found` when the directory
   * holds no tenant (never initialised), a version conflict naming the version it is at.
   */
  change(
    ctx: Origin,
    change: TenantChange,
    expectedVersion?: ExpectedVersion,
  ): Result<{ tenant: TenantState; changed: boolean }, "not_found"> | VersionConflict {
    return this.store.tx(() => {
      const current = this.current();
      if (!current) return fail("not_found");
      if (!versionMatches(expectedVersion, current.version)) return versionConflict(current.version);
      const { next, event } = decideTenantChange(current, change, ctx.now);
      if (!event) return ok({ tenant: current, changed: false });
      this.store.sql.exec(
        `update tenant set name = ?, plan = ?, status = ?, suspended_at = ?, suspended_reason = ?, version = ?
          where id = ?`,
        next.name,
        next.plan,
        next.status,
        next.suspended_at,
        next.suspended_reason,
        next.version,
        next.id,
      );
      this.store.emit(ctx, `tenant/${next.id}`, event.event, event.audit);
      return ok({ tenant: next, changed: true });
    });
  }
}
