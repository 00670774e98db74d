import type { RegistryProblem } from "./registry";
import type { ModuleDef } from "./types";

/**
 * Who may follow which events (a webhook endpoint's filters): event-type pattern → the
 * permission that reads those events through the API, merged from every module's
 * `event_read`. A pattern is an exact type, a prefix ending in `.*`, or `*`.
 */
export type EventReadRules = Readonly<Record<string, string>>;

const PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;

/** Whether an event-type pattern matches `type`; a prefix matches whole segments (`blog.*` not `blogs.x.y`). */
function matches(pattern: string, type: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/**
 * How specific a pattern is: an exact type beats any prefix, a longer prefix a shorter one,
 * and `*` comes last, so a module's own rule for its types overrides a catch-all.
 */
function specificity(pattern: string): number {
  if (pattern === "*") return 0;
  return pattern.endsWith(".*") ? pattern.length : Number.MAX_SAFE_INTEGER;
}

/**
 * The permission a principal must hold to follow events of `type`: that of the most specific
 * pattern matching it, or null when none does (anyone who may manage webhooks may follow it).
 *
 * @example
 * readPermission({ "*": "admin.audit.read", "blog.*": "blog.post.read" }, "blog.post.created"); // "blog.post.read"
 */
export function readPermission(rules: EventReadRules, type: string): string | null {
  let best: { pattern: string; permission: string } | null = null;
  for (const [pattern, permission] of Object.entries(rules)) {
    if (matches(pattern, type) && (best === null || specificity(pattern) > specificity(best.pattern))) {
      best = { pattern, permission };
    }
  }
  return best?.permission ?? null;
}

/** Every module's `event_read`, merged (the registry refuses a pattern two modules declare). */
export function eventReadRules(defs: readonly ModuleDef[]): EventReadRules {
  return Object.fromEntries(defs.flatMap((def) => Object.entries(def.event_read ?? {})));
}

/**
 * What is wrong with the modules' `event_read`. A module names only permissions it declares
 * itself (as with `grants`: no module speaks for another's data), and a pattern other than
 * `*` matches only event types the module publishes, at least one: a module rules its own
 * events, never another's. `*` says "this module's API shows every event" (the audit log):
 * the rule for types no more specific pattern covers, the kernel's own among them; at most
 * one module declares it, as any pattern. `types` are the published types with their
 * publisher (`kernel` for the kernel's).
 */
export function eventReadProblems(
  defs: readonly ModuleDef[],
  types: readonly { type: string; module: string }[],
): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const owner = new Map<string, string>();
  for (const def of defs) {
    const say = (problem: string) => problems.push({ module: def.name, problem });
    const own = new Set(def.permissions ?? []);
    for (const [pattern, permission] of Object.entries(def.event_read ?? {})) {
      const rule = `event_read "${pattern}"`;
      const claimed = owner.get(pattern);
      if (claimed !== undefined) say(`${rule} is already declared by module "${claimed}"`);
      else owner.set(pattern, def.name);
      if (!own.has(permission)) say(`${rule} names "${permission}", but a module names only permissions it declares`);
      if (!PATTERN.test(pattern)) {
        say(`${rule} is not an event type, a prefix ending in ".*", or "*"`);
        continue;
      }
      if (pattern === "*") continue;
      const matched = types.filter((t) => matches(pattern, t.type));
      const foreign = [...new Set(matched.filter((t) => t.module !== def.name).map((t) => t.type))];
      if (matched.length === 0) say(`${rule} matches no event type the module publishes${ownTypes(def.name, types)}`);
      else if (foreign.length > 0) say(`${rule} matches event types of other modules (${foreign.join(", ")})`);
    }
  }
  return problems;
}

/**
 * The end of "matches no event type the module publishes": which it publishes, or, with none (a
 * module of D1 rows keeping the scaffold's rule before an actor of its own publishes), what to do.
 */
function ownTypes(module: string, types: readonly { type: string; module: string }[]): string {
  const own = [...new Set(types.filter((t) => t.module === module).map((t) => t.type))];
  if (own.length === 0)
    return ", and it publishes none: declare its events in events.publishes, or leave event_read out until it publishes some";
  const shown = own.slice(0, 5).join(", ");
  return ` (${own.length > 5 ? `${shown}, and ${own.length - 5} more` : shown})`;
}
