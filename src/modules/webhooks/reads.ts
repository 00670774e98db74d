/**
 * What an endpoint was checked for: the read permissions (modules' `event_read`) of the event
 * types its filters matched when it was last written, kept beside its filters, and the rule
 * dispatch applies with them. Pure functions, no Workers or storage: the routes compute what
 * a write checked, the registry keeps it and filters each event by it (docs/webhooks.md,
 * "Who may follow which events").
 */
import { type EventReadRules, eventReadRules, readPermission } from "../../kernel/modules/event-read";
import { publishedTypes } from "../../kernel/modules/registry";
import type { ModuleDef } from "../../kernel/modules/types";
import { wants } from "./domain";

/** Who may follow which events in one deploy: the types it publishes, and its modules' `event_read` rules. */
export interface ReadRules {
  types: readonly string[];
  rules: EventReadRules;
}

/** A deploy's {@link ReadRules}, from its registered modules. */
export const readRulesOf = (modules: readonly ModuleDef[]): ReadRules => ({
  types: publishedTypes(modules),
  rules: eventReadRules(modules),
});

/**
 * The permissions that read the events `filters` match: each published type's most specific
 * rule, `*` and prefixes expanded against the types published now, sorted and unique.
 *
 * @example
 * filterReads(["blog.*"], { types: ["blog.post.created"], rules: { "blog.*": "blog.post.read" } }); // ["blog.post.read"]
 */
export function filterReads(filters: readonly string[], { types, rules }: ReadRules): string[] {
  const needed = types.filter((type) => wants(filters, type)).map((type) => readPermission(rules, type));
  return [...new Set(needed.filter((p) => p !== null))].sort();
}

/**
 * Whether an endpoint checked for `reads` may be sent an event of `type`: the permission that
 * reads the type under the rules of now is one it was checked for (a type no rule covers needs
 * none). A type a later deploy publishes under a rule of its own (`blog.comment.*` →
 * `blog.comment.read`) thus stays away from a `blog.*` written by a key that read posts only.
 */
export function checkedFor(reads: readonly string[], rules: EventReadRules, type: string): boolean {
  const permission = readPermission(rules, type);
  return permission === null || reads.includes(permission);
}

/**
 * What a write of an endpoint's filters (or URL) records: of the permissions its filters need
 * now (`needed`), those the writer holds (`granted`, every one for a filter it was checked for)
 * and those the endpoint was checked for before (`before`). A filter sent back unchanged is not
 * checked again (readable.ts), so a narrower key's read-modify-write keeps what the endpoint
 * had, and adds nothing it was never checked for, however the rules changed since.
 */
export function readsAfterWrite(
  needed: readonly string[],
  granted: readonly string[],
  before: readonly string[],
): string[] {
  return [...new Set(needed.filter((p) => granted.includes(p) || before.includes(p)))].sort();
}

/**
 * What an endpoint checked for `reads` is held back under `rules` (docs/webhooks.md): the types
 * published now that its filters match but whose read permission it was not checked for, sorted,
 * so an admin sees why a type a later deploy ruled otherwise never arrives. None for an endpoint
 * with no record (null): its first dispatch takes it as checked for what its filters need then.
 */
export function heldBackTypes(filters: readonly string[], reads: readonly string[] | null, rules: ReadRules): string[] {
  if (reads === null) return [];
  return rules.types.filter((type) => wants(filters, type) && !checkedFor(reads, rules.rules, type)).sort();
}
