import { drizzle } from "drizzle-orm/d1";
import type { Envelope } from "../../kernel/events/envelope";
import { subscribeAll } from "../../kernel/events/subscribe";
import type { AuditEntry } from "./chain";
import { type AuditInput, auditLog } from "./contract";
import { auditEntries } from "./read-model";

/** What the audit log records of an event: who, what, on which stream, and the writer's chosen facts. */
export function auditInput(e: Envelope): AuditInput {
  return {
    event_id: e.id,
    tenant_id: e.tenant_id,
    at: e.occurred_at,
    actor: e.actor,
    action: e.type,
    target: e.stream,
    request_id: e.request_id,
    ip_hash: e.ip_hash ?? null,
    detail: e.audit && Object.keys(e.audit).length > 0 ? e.audit : null,
  };
}

/** Copies entries into the D1 read model; a repeat is a no-op. */
export async function projectEntries(db: D1Database, tenantId: string, entries: readonly AuditEntry[]): Promise<void> {
  // D1 binds at most 100 parameters per statement: 12 columns, 8 rows.
  for (let i = 0; i < entries.length; i += 8) {
    const rows = entries.slice(i, i + 8).map((e) => ({
      tenantId,
      seq: e.seq,
      at: e.at,
      actorKind: e.actor.kind,
      actorId: e.actor.id,
      action: e.action,
      target: e.target,
      requestId: e.request_id,
      ipHash: e.ip_hash,
      detail: e.detail === undefined ? null : JSON.stringify(e.detail),
      prevHash: e.prev_hash,
      hash: e.hash,
    }));
    await drizzle(db).insert(auditEntries).values(rows).onConflictDoNothing();
  }
}

/**
 * The audit subscription, to every event type: appends the event to its
 * tenant's AuditLog (which drops an event id it has seen), then copies the
 * resulting entry to D1. Safe to run any number of times for the same event.
 */
export const recordEvents = subscribeAll("log", async (event, { env }) => {
  const { entries } = await auditLog(env, event.tenant_id).append({ events: [auditInput(event)] });
  await projectEntries(env.DB, event.tenant_id, entries);
});
