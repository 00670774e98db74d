import { newId } from "../crypto/tokens";
import type { AuditFacts, Actor as EventActor, Json, OutgoingEvent } from "../events/envelope";
import { appendOutbox } from "../outbox";
import type { ActorAddress } from "./options";

/** The table that numbers an actor's events per stream (the actor base's schema). */
export const STREAMS_SCHEMA = "create table actor_streams (stream text primary key, version integer not null)";

/** An event as an actor emits it: type and data, and who caused it when a request did. */
export interface ActorEvent {
  type: string;
  data: { [key: string]: Json };
  actor?: EventActor;
  requestId?: string | null;
  ipHash?: string | null;
  /** What the tenant's audit log records beyond actor and target (its entry's `detail`). */
  audit?: AuditFacts;
}

/**
 * Appends an actor's event to its outbox, inside the caller's transaction,
 * with the next version of its stream (from 1). `actorName` is who caused it
 * when no request did.
 */
export function appendActorEvent(
  sql: SqlStorage,
  address: ActorAddress,
  event: ActorEvent,
  at: number,
  actorName: string,
): OutgoingEvent {
  const version =
    sql
      .exec<{ version: number }>(
        `insert into actor_streams (stream, version) values (?, 1)
         on conflict (stream) do update set version = version + 1 returning version`,
        address.stream,
      )
      .one().version ?? 1;
  const outgoing: OutgoingEvent = {
    id: newId(at),
    type: event.type,
    tenant_id: address.tenantId,
    stream: address.stream,
    version,
    occurred_at: new Date(at).toISOString(),
    actor: event.actor ?? { kind: "system", id: actorName },
    request_id: event.requestId ?? null,
    ...(event.ipHash ? { ip_hash: event.ipHash } : {}),
    ...(event.audit ? { audit: event.audit } : {}),
    data: event.data,
  };
  appendOutbox(sql, outgoing);
  return outgoing;
}
