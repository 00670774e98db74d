import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import type { EventMessage, ModuleRuntime } from "../../kernel/modules/types";
import type { AuditEntry } from "./chain";
import type { AuditInput } from "./log-store";
import { auditEntries } from "./read-model";

/** An event's `audit` facts: a flat object of short values, at most 2 KiB as JSON. */
export const AuditDetailSchema = z
  .record(
    z.string().max(64),
    z.union([z.string().max(256), z.number(), z.boolean(), z.null(), z.array(z.string().max(128)).max(64)]),
  )
  .refine((d) => JSON.stringify(d).length <= 2048, "at most 2 KiB");

// The envelope fields the audit log reads; anything else in the event is ignored.
const Envelope = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  tenant_id: z.string().min(1).max(200),
  occurred_at: z.string().min(1).max(64).optional(),
  stream: z.string().max(500).nullish(),
  actor: z.object({ kind: z.string().min(1).max(32), id: z.string().max(200).nullable() }).nullish(),
  request_id: z.string().max(128).nullish(),
  ip_hash: z.string().max(128).nullish(),
  // Facts too large or malformed are dropped, not the event: the entry is still recorded.
  audit: AuditDetailSchema.optional().catch(undefined),
});

/** What the audit log records of an event envelope. */
export function auditInput(event: EventMessage, now: () => Date = () => new Date()): AuditInput {
  const e = Envelope.parse(event);
  return {
    event_id: e.id,
    tenant_id: e.tenant_id,
    at: e.occurred_at ?? now().toISOString(),
    actor: e.actor ?? { kind: "system", id: null },
    action: e.type,
    target: e.stream ?? null,
    request_id: e.request_id ?? null,
    ip_hash: e.ip_hash ?? null,
    detail: e.audit && Object.keys(e.audit).length > 0 ? e.audit : null,
  };
}

/** Copies entries into the D1 read model; a repeat is a no-op. */
export async function projectEntries(db: D1Database, tenantId: string, entries: readonly AuditEntry[]): Promise<void> {
  // D1 binds at most 100 parameters per statement: 12 columns, 8 rows.
  for (let i = 0; i < entries.length; i += 8) {
    await insertRows(db, tenantId, entries.slice(i, i + 8));
  }
}

async function insertRows(db: D1Database, tenantId: string, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await drizzle(db)
    .insert(auditEntries)
    .values(
      entries.map((e) => ({
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
      })),
    )
    .onConflictDoNothing();
}

/**
 * The audit subscriber: appends the event to its tenant's AuditLog (which
 * drops an event id it has seen), then copies the resulting entry to D1.
 * Safe to run any number of times for the same event.
 */
export async function recordEvent(event: EventMessage, runtime: Pick<ModuleRuntime, "env">): Promise<void> {
  const input = auditInput(event);
  const log = runtime.env.AUDIT_LOG.getByName(input.tenant_id);
  const { entries } = await log.append({ events: [input] });
  await projectEntries(runtime.env.DB, input.tenant_id, entries);
}
