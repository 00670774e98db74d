import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { wants } from "./domain";
import { TEST_MESSAGE_TYPE } from "./message";
import { heldBackTypes } from "./reads";

/** The entries of `filters` no event type published here matches (the test message's counts), sorted and unique. */
function unpublished(c: Context<AppEnv>, filters: readonly string[]): string[] {
  const published = [...c.get("platform").events, TEST_MESSAGE_TYPE];
  return [...new Set(filters.filter((filter) => !published.some((type) => wants([filter], type))))].sort();
}

/**
 * Checks an endpoint's filters against the event types this platform publishes (the
 * kernel's and every registered module's): a filter none matches is a 400 naming it, since
 * a typo (`orders.order.payed`) would otherwise be stored and receive nothing, silently.
 * `*` always matches; a prefix (`orders.*`) must match some type. The test message's own
 * type counts: an endpoint may name it (it gets test messages whatever its filters).
 *
 * `held` are the endpoint's filters before the write: one of them matching nothing (the events
 * of a module since removed from the deployment, docs/modules.md) may be sent back as read, so
 * an integrator's read-modify-write of the filters keeps working; it cannot be added anew.
 */
export function checkFilters(c: Context<AppEnv>, filters: readonly string[], held: readonly string[] = []): void {
  const refused = new Set(unpublished(c, filters).filter((filter) => !held.includes(filter)));
  const unmatched = filters.flatMap((filter, i) => (refused.has(filter) ? [{ filter, i }] : []));
  if (unmatched.length === 0) return;
  const say = (filter: string) => `no registered module publishes events matching ${filter}`;
  throw new AppError("validation_failed", {
    detail: say(unmatched.map((u) => u.filter).join(", ")),
    errors: unmatched.map((u) => ({ path: `body.events.${u.i}`, message: say(u.filter) })),
  });
}

/** What {@link flagEndpoint} needs of an endpoint: its filters, and what they were checked for. */
interface Flaggable {
  events: readonly string[];
  checked_reads: readonly string[] | null;
}
/** What {@link flagEndpoint} adds. */
interface Flags {
  unknown_events?: string[];
  held_back_types: string[];
}

/**
 * An endpoint as the API answers it: with `unknown_events` listing its filters no published
 * event type matches, when there are any (it receives nothing through them), as roles flag
 * the permissions of a removed module; and `held_back_types`, the published types its filters
 * match that dispatch holds back from it, read with a permission it was not checked for (reads.ts).
 */
export function flagEndpoint<E extends Flaggable>(c: Context<AppEnv>, endpoint: E): E & Flags {
  const { events, event_read } = c.get("platform");
  const held = heldBackTypes(endpoint.events, endpoint.checked_reads, { types: events, rules: event_read });
  const unknown = unpublished(c, endpoint.events);
  return { ...endpoint, ...(unknown.length > 0 ? { unknown_events: unknown } : {}), held_back_types: held };
}

/** A page of endpoints, each flagged as {@link flagEndpoint} does. */
export function flagPage<P extends { items: readonly Flaggable[] }>(
  c: Context<AppEnv>,
  page: P,
): Omit<P, "items"> & { items: (P["items"][number] & Flags)[] } {
  return { ...page, items: page.items.map((endpoint) => flagEndpoint(c, endpoint)) };
}
