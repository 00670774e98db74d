import type { DirectoryStore } from "./store";
import { decideTenantChange, type TenantChange, type TenantState } from "./tenant-state";
import type { Ctx } from "./types";

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  slug: string;
  name: string;
  plan: string;
  status: string;
  suspended_at: string | null;
  suspended_reason: string | null;
}

/** The directory's own tenant record: read, and changed together with the event that records the change. */
export class TenantRow {
  constructor(private readonly store: DirectoryStore) {}

  current(): TenantState | null {
    const row = this.store.sql
      .exec<Row>("select id, slug, name, plan, status, suspended_at, suspended_reason from tenant")
      .toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status === "suspended" ? "suspended" : "active" };
  }

  /**
   * Applies an operator's change in one transaction with its event; null
   * when the directory holds no tenant (never initialised).
   */
  change(ctx: Ctx, change: TenantChange): { tenant: TenantState; changed: boolean } | null {
    return this.store.tx(() => {
      const current = this.current();
      if (!current) return null;
      const { next, event } = decideTenantChange(current, change, ctx.now);
      if (!event) return { tenant: current, changed: false };
      this.store.sql.exec(
        "update tenant set name = ?, plan = ?, status = ?, suspended_at = ?, suspended_reason = ? where id = ?",
        next.name,
        next.plan,
        next.status,
        next.suspended_at,
        next.suspended_reason,
        next.id,
      );
      this.store.emit(ctx, `tenant/${next.id}`, event.event, event.audit);
      return { tenant: next, changed: true };
    });
  }
}
