import { z } from "zod";
import type { AuditFacts } from "../../../kernel/events/envelope";
import type { IdentityEvent } from "../events";

/**
 * The tenant as its directory holds it. The directory is the tenant's single
 * writer, so a change and the event recording it commit together here; the
 * registry (D1 `tenants`, which requests resolve against) copies the state
 * the directory answers with.
 */
export const TenantStateSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  plan: z.string(),
  status: z.enum(["active", "suspended"]),
  suspended_at: z.string().nullable(),
  suspended_reason: z.string().nullable(),
  /** 1 at creation, +1 per change: orders the registry's copies and answers `If-Match`. */
  version: z.number().int().min(1),
});
export type TenantState = z.infer<typeof TenantStateSchema>;

/** What an operator asks of a tenant: new name or plan, suspension (with an optional reason), resumption. */
export const TenantChangeSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("update"),
    name: z.string().min(1).max(200).optional(),
    plan: z.string().min(1).max(64).optional(),
  }),
  z.object({ kind: z.literal("suspend"), reason: z.string().min(1).max(200).nullable() }),
  z.object({ kind: z.literal("resume") }),
]);
export type TenantChange = z.infer<typeof TenantChangeSchema>;

/** A decision: the state after the change and the event recording it; no event when nothing changes. */
export interface TenantDecision {
  next: TenantState;
  event: { event: IdentityEvent; audit: AuditFacts } | null;
}

/**
 * Decides a change to a tenant, without reading or writing anything. A
 * change that changes nothing (the same plan again, suspending a suspended
 * tenant) records nothing and keeps the state as it is, so an operator's
 * retry after a failure part-way is harmless and a second suspension keeps
 * the first one's time and reason (one asking another reason is then refused,
 * 409, by the platform route: tenants/lifecycle.ts `keptSuspension`).
 */
export function decideTenantChange(current: TenantState, change: TenantChange, now: string): TenantDecision {
  const unchanged = { next: current, event: null };
  switch (change.kind) {
    case "update": {
      const patch = { name: change.name, plan: change.plan };
      const fields = (["name", "plan"] as const).filter((f) => patch[f] !== undefined && patch[f] !== current[f]);
      if (fields.length === 0) return unchanged;
      const next = {
        ...current,
        name: change.name ?? current.name,
        plan: change.plan ?? current.plan,
        version: current.version + 1,
      };
      const changed = Object.fromEntries(fields.map((f) => [f, next[f]]));
      return {
        next,
        event: {
          event: {
            type: "tenants.tenant.updated",
            data: { id: current.id, name: next.name, plan: next.plan, fields },
          },
          audit: { fields, ...changed },
        },
      };
    }
    case "suspend": {
      if (current.status === "suspended") return unchanged;
      return {
        next: {
          ...current,
          status: "suspended",
          suspended_at: now,
          suspended_reason: change.reason,
          version: current.version + 1,
        },
        event: {
          event: { type: "tenants.tenant.suspended", data: { id: current.id, reason: change.reason } },
          audit: change.reason === null ? {} : { reason: change.reason },
        },
      };
    }
    case "resume": {
      if (current.status === "active") return unchanged;
      return {
        next: {
          ...current,
          status: "active",
          suspended_at: null,
          suspended_reason: null,
          version: current.version + 1,
        },
        event: { event: { type: "tenants.tenant.resumed", data: { id: current.id } }, audit: {} },
      };
    }
  }
}
