/**
 * The WebhookRegistry's storage: its `endpoints` table, how a row is written
 * and reads back (every JSON column parsed, never cast), and what an endpoint
 * actor is told of an endpoint. Pure functions over the object's SQL handle.
 */

import { z } from "zod";
import { storedJson } from "../../kernel/db/stored-json";
import type { Envelope } from "../../kernel/events/envelope";
import { type EndpointConfig, EndpointSchema, type EndpointView, SealedSecret } from "./contract";
import { wants } from "./domain";

/** The registry's migrations. */
export const ENDPOINTS_SCHEMA: readonly string[][] = [
  [
    `create table endpoints (
       id text primary key,
       url text not null,
       description text not null,
       events text not null,
       secrets text not null,
       enabled integer not null,
       disabled_reason text,
       version integer not null,
       created_at text not null,
       updated_at text not null
     )`,
  ],
  // What each endpoint's filters were checked for when written (reads.ts); null for one written
  // before this column, recorded at its first dispatch (the registry's `dispatch`).
  ["alter table endpoints add column reads text"],
  // The operator's reason when the platform disabled the endpoint (disabled_reason 'platform').
  ["alter table endpoints add column disabled_note text"],
];

/**
 * An endpoint as the registry holds it in memory: what admins see (but what it was checked for),
 * its sealed secrets, and the read permissions its filters were checked for when last written
 * (null: written before they were recorded, and not dispatched to since).
 */
export interface Endpoint {
  view: Omit<EndpointView, "checked_reads">;
  secrets: z.infer<typeof SealedSecret>[];
  reads: string[] | null;
}

/** What admins see of an endpoint: its view, with what it was checked for (kept once, in `reads`). */
export const viewOf = (endpoint: Endpoint): EndpointView => ({ ...endpoint.view, checked_reads: endpoint.reads });

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  url: string;
  description: string;
  events: string;
  secrets: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_note: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  reads: string | null;
}

const Secrets = z.array(SealedSecret);
const Filters = z.array(z.string());
const Reads = z.array(z.string());
const Reason = EndpointSchema.shape.disabled_reason;
const Note = EndpointSchema.shape.disabled_note;

function toEndpoint(r: Row): Endpoint {
  return {
    view: {
      id: r.id,
      url: r.url,
      description: r.description,
      events: Filters.parse(storedJson(r.events, `webhook endpoint ${r.id} events`)),
      enabled: r.enabled === 1,
      disabled_reason: Reason.parse(r.disabled_reason),
      disabled_note: Note.parse(r.disabled_note),
      version: r.version,
      created_at: r.created_at,
      updated_at: r.updated_at,
    },
    secrets: Secrets.parse(storedJson(r.secrets, `webhook endpoint ${r.id} secrets`)),
    reads: r.reads === null ? null : Reads.parse(storedJson(r.reads, `webhook endpoint ${r.id} reads`)),
  };
}

/** The secrets column, parsed. */
type Secrets = z.infer<typeof Secrets>;

/** Stores a new endpoint: enabled, at version 1, with its secrets and what its filters were checked for. */
export function insertEndpoint(
  sql: SqlStorage,
  endpoint: Pick<EndpointView, "id" | "url" | "description" | "events"> & { reads: readonly string[] },
  secrets: Secrets,
  now: string,
): void {
  sql.exec(
    `insert into endpoints (id, url, description, events, secrets, enabled, disabled_reason, version, created_at, updated_at, reads)
     values (?, ?, ?, ?, ?, 1, null, 1, ?, ?, ?)`,
    endpoint.id,
    endpoint.url,
    endpoint.description,
    JSON.stringify(endpoint.events),
    JSON.stringify(secrets),
    now,
    now,
    JSON.stringify(endpoint.reads),
  );
}

/**
 * Writes an admin's (or the platform's) change of an endpoint, one version up; `reads` as
 * {@link Endpoint}'s, `disabled` its reason for being disabled and the operator's note.
 */
export function updateEndpoint(
  sql: SqlStorage,
  id: string,
  next: Pick<EndpointView, "url" | "description" | "events" | "enabled"> & Pick<Endpoint, "reads">,
  disabled: Pick<EndpointView, "disabled_reason" | "disabled_note">,
  now: string,
): void {
  sql.exec(
    `update endpoints set url = ?, description = ?, events = ?, enabled = ?, disabled_reason = ?, disabled_note = ?,
       version = version + 1, updated_at = ?, reads = ? where id = ?`,
    next.url,
    next.description,
    JSON.stringify(next.events),
    next.enabled ? 1 : 0,
    disabled.disabled_reason,
    disabled.disabled_note,
    now,
    next.reads === null ? null : JSON.stringify(next.reads),
    id,
  );
}

/**
 * Records what an endpoint written before reads were kept is taken as checked for (the registry's
 * `dispatch`): no new version, no event, since neither its filters nor what it receives changed.
 */
export function storeReads(sql: SqlStorage, id: string, reads: readonly string[]): void {
  sql.exec("update endpoints set reads = ? where id = ?", JSON.stringify(reads), id);
}

/** Stores an endpoint's rotated secrets, one version up. */
export function rotateSecrets(sql: SqlStorage, id: string, secrets: Secrets, now: string): void {
  sql.exec(
    "update endpoints set secrets = ?, version = version + 1, updated_at = ? where id = ?",
    JSON.stringify(secrets),
    now,
    id,
  );
}

/** Stores re-sealed secrets: the same secrets, so no new version. */
export function storeResealed(sql: SqlStorage, id: string, secrets: Secrets): void {
  sql.exec("update endpoints set secrets = ? where id = ?", JSON.stringify(secrets), id);
}

/** Disables an endpoint its delivery gave up on, for `reason`, one version up. */
export function disableEndpoint(
  sql: SqlStorage,
  id: string,
  reason: Exclude<NonNullable<EndpointView["disabled_reason"]>, "platform">,
  now: string,
): void {
  sql.exec(
    "update endpoints set enabled = 0, disabled_reason = ?, disabled_note = null, version = version + 1, updated_at = ? where id = ?",
    reason,
    now,
    id,
  );
}

export function deleteEndpoint(sql: SqlStorage, id: string): void {
  sql.exec("delete from endpoints where id = ?", id);
}

/** Every endpoint of the registry. */
export const readEndpoints = (sql: SqlStorage): Endpoint[] =>
  sql.exec<Row>("select * from endpoints").toArray().map(toEndpoint);

/** One endpoint, which must exist. */
export const readEndpoint = (sql: SqlStorage, id: string): Endpoint =>
  toEndpoint(sql.exec<Row>("select * from endpoints where id = ?", id).one());

/** Whether an endpoint receives an event: enabled, wanting its type, and created before it occurred. */
export function receives(view: Endpoint["view"], event: Envelope): boolean {
  return view.enabled && wants(view.events, event.type) && view.created_at <= event.occurred_at;
}

/**
 * What an endpoint actor needs at `now`: URL, the secrets still signing (the
 * newest always), whether to deliver, and the version it reflects.
 */
export function configOf(tenantId: string, endpoint: Endpoint, now: number): EndpointConfig {
  const live = liveSecrets(endpoint.secrets, now);
  return {
    tenant_id: tenantId,
    endpoint_id: endpoint.view.id,
    url: endpoint.view.url,
    secrets: live.length > 0 ? live : endpoint.secrets.slice(0, 1),
    enabled: endpoint.view.enabled,
    version: endpoint.view.version,
  };
}

/** The secrets still signing at `now`: the current one, and a rotated-out one inside its overlap. */
export const liveSecrets = <S extends { expires_at: number | null }>(secrets: readonly S[], now: number): S[] =>
  secrets.filter((s) => s.expires_at === null || s.expires_at > now);

/**
 * Swaps re-sealed secrets in (plinth crypto reencrypt): each `from` still held becomes its
 * `to`, nothing else changes (same secrets, same expiry, no new version). Returns the
 * secrets and how many were swapped; a `from` no longer held (rotated meanwhile) is skipped.
 */
export function swapSealed<S extends { sealed: string }>(
  secrets: readonly S[],
  reseals: readonly { from: string; to: string }[],
): { secrets: S[]; swapped: number } {
  let swapped = 0;
  const next = secrets.map((s) => {
    const reseal = reseals.find((r) => r.from === s.sealed);
    if (!reseal) return s;
    swapped++;
    return { ...s, sealed: reseal.to };
  });
  return { secrets: next, swapped };
}
