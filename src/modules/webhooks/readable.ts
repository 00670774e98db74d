import type { Context } from "hono";
import { deny } from "../../kernel/auth/deny";
import { can, principalOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { readPermission } from "../../kernel/modules/event-read";
import { filterReads } from "./reads";

/** One filter the caller may not hold: where it is in the body, and the permissions it lacks. */
interface Unreadable {
  filter: string;
  i: number;
  missing: string[];
}

/**
 * The permissions the events `filter` matches are read with (each published type's most
 * specific `event_read` rule, `*` and prefixes expanded against the published types), sorted.
 */
function permissionsFor(c: Context<AppEnv>, filter: string): string[] {
  const { events, event_read } = c.get("platform");
  return filterReads([filter], { types: events, rules: event_read });
}

/**
 * What a write of `filters` is checked for, to be kept with the endpoint (reads.ts): the
 * permissions their events are read with under the rules of now (`needed`), and those of them
 * the caller holds (`granted`: all, for every filter {@link checkReadable} checked).
 */
export function readsOf(c: Context<AppEnv>, filters: readonly string[]): { needed: string[]; granted: string[] } {
  const principal = principalOf(c, "user", "api_key");
  const { events, event_read } = c.get("platform");
  const needed = filterReads(filters, { types: events, rules: event_read });
  return { needed, granted: needed.filter((p) => can(principal, p)) };
}

/**
 * Refuses filters that would send the caller's endpoint events it may not read through the
 * API: `admin.webhooks.write` alone would otherwise follow `*` and receive every key created,
 * role changed and sign-in failed of the tenant. Each filter must match only event types whose
 * read permission (modules' `event_read`) the caller holds; else 403 `forbidden` naming, per
 * filter, the permissions missing, recorded as `authz.denied` (rule `event_read`) as every refusal.
 *
 * `held` are the endpoint's filters before the write, which may be sent back unchanged, so an
 * integrator's read-modify-write keeps working (as `checkFilters` keeps a removed module's).
 * A write that points the endpoint at another URL passes none (routes.ts): a new receiver of
 * its events is following them anew. The test message's type is no module's: it needs nothing.
 */
export function checkReadable(c: Context<AppEnv>, filters: readonly string[], held: readonly string[] = []): void {
  const principal = principalOf(c, "user", "api_key");
  const refused: Unreadable[] = filters.flatMap((filter, i) => {
    if (held.includes(filter)) return [];
    const missing = permissionsFor(c, filter).filter((p) => !can(principal, p));
    return missing.length > 0 ? [{ filter, i, missing }] : [];
  });
  if (refused.length === 0) return;
  const missing = [...new Set(refused.flatMap((r) => r.missing))].sort();
  const names = [...new Set(refused.map((r) => r.filter))].join(", ");
  throw deny(c, {
    rule: "event_read",
    permissions: missing,
    detail: `you do not hold ${missing.join(", ")}, which read the events that ${names} match`,
    errors: refused.map((r) => ({
      path: `body.events.${r.i}`,
      message: `${r.filter} matches events read with ${r.missing.join(", ")}, which you do not hold`,
    })),
  });
}

/**
 * Refuses a new URL for an endpoint unless the caller may read everything it would receive there:
 * the events of the filters it holds until the write lands (`held`, which route its queue till
 * then, whatever the write's own filters), and every delivery it keeps (`kept`, their types:
 * queued, or in its log, where a redelivery sends one to the endpoint's URL of the time). Else
 * narrowing an admin's `*` endpoint to `blog.*` while pointing it elsewhere would send its queue
 * there, and a redelivery its log's keys created and roles changed. 403 as {@link checkReadable},
 * one `errors` entry on `body.url`.
 */
export function checkMove(c: Context<AppEnv>, held: readonly string[], kept: readonly string[]): void {
  const principal = principalOf(c, "user", "api_key");
  const { event_read } = c.get("platform");
  // A kept delivery's type is not named: the delivery log hides it from a caller who may not
  // read it (visibleDelivery), and a refusal would tell them which types wait there.
  const needs = [
    ...held.map((filter) => ({ what: filter, permissions: permissionsFor(c, filter) })),
    ...kept.map((type) => ({
      what: "the deliveries it keeps",
      permissions: [readPermission(event_read, type)].filter((p) => p !== null),
    })),
  ];
  const refused = needs.flatMap(({ what, permissions }) => {
    const missing = permissions.filter((p) => !can(principal, p));
    return missing.length > 0 ? [{ what, missing }] : [];
  });
  if (refused.length === 0) return;
  const missing = [...new Set(refused.flatMap((r) => r.missing))].sort();
  const missingOf = new Map<string, Set<string>>();
  for (const r of refused)
    for (const p of r.missing) missingOf.set(r.what, (missingOf.get(r.what) ?? new Set()).add(p));
  const parts = [...missingOf].map(([what, perms]) => `${what}, read with ${[...perms].sort().join(", ")}`);
  throw deny(c, {
    rule: "event_read",
    permissions: missing,
    detail: `you do not hold ${missing.join(", ")}, which read what the endpoint follows or keeps: a new URL would receive it`,
    errors: [
      {
        path: "body.url",
        message: `a new URL receives what the endpoint follows and the deliveries it keeps: ${parts.join("; ")}; you do not hold it`,
      },
    ],
  });
}

/**
 * A delivery as the tenant's caller may see it: without its `event_type` unless the caller holds
 * the permission that reads events of that type (as {@link checkReadable} asks of a filter), so
 * `admin.webhooks.read` watches every endpoint's deliveries, their state and failures, without
 * learning when keys were created or sign-ins failed. Kept in the list (its place, status and
 * attempts are the webhooks' own); the test message's type reads with `admin.webhooks.read`.
 */
export function visibleDelivery<D extends { event_type: string }>(
  c: Context<AppEnv>,
  delivery: D,
): Omit<D, "event_type"> & { event_type?: string } {
  const permission = readPermission(c.get("platform").event_read, delivery.event_type);
  if (permission === null || can(principalOf(c, "user", "api_key"), permission)) return delivery;
  const { event_type: _hidden, ...rest } = delivery;
  return rest;
}
