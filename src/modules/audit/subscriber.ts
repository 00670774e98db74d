import type { BatchItem } from "drizzle-orm/batch";
import { chunked, groupBy } from "../../kernel/db/params";
import type { Envelope } from "../../kernel/events/envelope";
import type { Subscription } from "../../kernel/modules/types";
import { readModels } from "../../kernel/read-models";
import { AUDIT_APPEND_MAX, type AuditInput, auditLog } from "./contract";
import { entryWrites } from "./read-model";
import { auditChainSource } from "./rebuild";

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

/**
 * The audit subscription, to every event type: appends a batch's events to
 * each tenant's AuditLog chain in one call per tenant (the object drops an
 * event id it has seen, and appends in the batch's canonical order), then
 * copies the resulting entries to the read model with the batch's ledger marks. Safe to
 * run any number of times for the same events.
 */
export const recordEvents: Subscription = {
  name: "log",
  types: "*",
  // Its rows copy the chains, which hold every entry, from writers with no event log too.
  rebuildFrom: auditChainSource,
  async handleBatch(events, { env }) {
    const byTenant = groupBy(events, (e) => e.tenant_id);
    const db = readModels(env);
    const writes: BatchItem<"sqlite">[] = [];
    for (const [tenantId, list] of byTenant) {
      for (const part of chunked(list, AUDIT_APPEND_MAX)) {
        const { entries } = await auditLog(env, tenantId).append({ events: part.map(auditInput) });
        writes.push(...entryWrites(db, tenantId, entries));
      }
    }
    return { writes };
  },
};
