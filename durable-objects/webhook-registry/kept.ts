import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { TenantErased } from "../../src/kernel/durable/tombstone";
import type { AuditFacts } from "../../src/kernel/events/envelope";
import type { Origin } from "../../src/kernel/events/origin";
import { type Endpoint, readEndpoint, readEndpoints } from "../../src/modules/webhooks/endpoints-table";

/** Set by beginErasure, gone with the rest at eraseAll (whose tombstone then stands for it). */
export const ERASING_KEY = "registry.erasing";
/** The key prefix of a removed endpoint's purge timer. */
export const PURGE = "purge:";
/**
 * How long a purge its actor could not finish (a delivery in flight, which ends within its
 * timeout) waits to be sent again.
 */
export const PURGE_AGAIN_MS = 60_000;

/** The registry's timer messages. */
export const Timer = z.discriminatedUnion("kind", [
  /** Pushes an endpoint's current config to its actor (after a change), retried until it lands. */
  z.object({ kind: z.literal("push"), id: z.string() }),
  /** Empties a deleted endpoint's actor. */
  z.object({ kind: z.literal("purge"), id: z.string() }),
]);
export type Timer = z.infer<typeof Timer>;

/**
 * What the WebhookRegistry (durable-objects/webhook-registry.ts) keeps, the layer its RPC
 * messages extend: the tenant's endpoints as read from storage (a memo the actor base drops
 * after a rollback, through `onStart`), whether the tenant's erasure closed the registry, and
 * the events it records about an endpoint.
 */
export abstract class RegistryKept extends Actor<Timer> {
  private endpoints: Map<string, Endpoint> | null = null;

  protected override onStart(): void {
    this.endpoints = null;
  }

  protected override escalationAddress() {
    const tenantId = this.boundTenant();
    return tenantId === null ? null : { tenantId, stream: `${tenantId}/webhooks` };
  }

  /** Every endpoint, read once from storage and kept until a rollback or {@link forgetEndpoints}. */
  protected all(): Map<string, Endpoint> {
    if (this.endpoints) return this.endpoints;
    this.endpoints = new Map(readEndpoints(this.ctx.storage.sql).map((e) => [e.view.id, e]));
    return this.endpoints;
  }

  /** Reads one endpoint again after a write to it. */
  protected reload(id: string): Endpoint {
    const endpoint = readEndpoint(this.ctx.storage.sql, id);
    this.all().set(id, endpoint);
    return endpoint;
  }

  /** After a deletion: read again at the next use. */
  protected forgetEndpoints(): void {
    this.endpoints = null;
  }

  /** Whether its tenant's erasure has begun (beginErasure) or emptied it (eraseAll). */
  protected closed(): boolean {
    return this.erased() || this.ctx.storage.kv.get<boolean>(ERASING_KEY) === true;
  }

  /** Checked before a change's transaction, so a refusal counts as no failure and writes nothing. */
  protected refuseClosed(): void {
    if (this.closed()) throw new TenantErased("WebhookRegistry");
  }

  /** Records a change of an endpoint, as `ctx`'s, on the endpoint's stream. */
  protected record(
    ctx: Origin,
    tenantId: string,
    endpointId: string,
    event: { type: string; data: Record<string, string | boolean | string[] | null>; audit?: AuditFacts },
  ): void {
    this.emit(this.address(tenantId, endpointId), {
      type: event.type,
      data: event.data,
      ...(event.audit ? { audit: event.audit } : {}),
      actor: ctx.actor,
      requestId: ctx.requestId,
      ipHash: ctx.ipHash ?? null,
    });
  }

  protected address(tenantId: string, endpointId: string) {
    return { tenantId, stream: `${tenantId}/webhook/${endpointId}` };
  }
}
