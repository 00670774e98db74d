import semver from "semver";
import { MAX_PERMISSION_LENGTH } from "../auth/permissions";
import { KERNEL_BINDINGS, KERNEL_VARIABLES } from "../config";
import { KERNEL_ERROR_CODES } from "../errors/codes";
import { eventTypes } from "../events/envelope";
import { KernelEvents } from "../events/kernel-events";
import { cronProblem } from "../jobs/cron";
import { policyProblems } from "../jobs/policy";
import { eventReadProblems } from "./event-read";
import { grantProblems } from "./grants";
import { NAME_PART } from "./name";
import { objectErasureProblems } from "./object-erasure";
import { SINGLE_PROVIDERS, type SingleProvided } from "./providers";
import { rateLimitProblems } from "./rate-limits";
import { routeProblems, shadowProblems } from "./routes";
import type { JobDef, ModuleDef } from "./types";

const MODULE_NAME = new RegExp(`^${NAME_PART}$`);
// The kernel's own name where modules go by theirs (its event types' owner below, its queue
// consumer `kernel:streams`, its bindings, the `module` of its log lines and metrics): a module
// of that name would pass as the kernel in each.
const KERNEL = "kernel";
const PERMISSION = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$/;
const SEALED_KIND = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_]*)+$/;

/** One problem with the registered modules, naming the module at fault. */
export interface RegistryProblem {
  module: string;
  problem: string;
}

/** Thrown when the module list cannot form a platform; lists every problem. */
export class ModuleRegistryError extends Error {
  readonly problems: RegistryProblem[];
  constructor(problems: RegistryProblem[]) {
    super(`invalid module registry:\n${problems.map((p) => `  - module "${p.module}": ${p.problem}`).join("\n")}`);
    this.name = "ModuleRegistryError";
    this.problems = problems;
  }
}

function checkModule(def: ModuleDef, problems: RegistryProblem[]): void {
  const say = (problem: string) => problems.push({ module: def.name, problem });
  if (!MODULE_NAME.test(def.name)) say("name must be 1-63 chars of a-z, 0-9 and '-', starting with a letter");
  if (def.name === KERNEL)
    say(`name "${KERNEL}" is reserved: the kernel's own events, bindings, queue consumers and log lines go by it`);
  if (!semver.valid(def.version)) say(`version "${def.version}" is not a semantic version`);
  if (def.base_path !== undefined && def.base_path !== "" && !/^(\/[a-z0-9][a-z0-9._-]*)+$/.test(def.base_path)) {
    say(`base_path "${def.base_path}" must be "" or start with "/" and contain lower-case path segments`);
  }
  for (const permission of def.permissions ?? []) {
    if (!PERMISSION.test(permission)) say(`permission "${permission}" is not of the form <module>.<resource>.<action>`);
    // Roles and keys hold permissions of at most this length: a longer one granted to a
    // role (ModuleDef.grants) would make every reply carrying that role fail.
    else if (permission.length > MAX_PERMISSION_LENGTH)
      say(
        `permission "${permission}" is ${permission.length} characters; a permission has at most ${MAX_PERMISSION_LENGTH}`,
      );
  }
  for (const type of publishedBy(def)) {
    if (!EVENT_TYPE.test(type)) say(`event type "${type}" is not of the form <module>.<entity>.<verb>`);
  }
  for (const code of Object.keys(def.errors ?? {})) {
    if (!/^[a-z][a-z0-9_]*$/.test(code)) say(`error code "${code}" must be snake_case`);
    if (Object.hasOwn(KERNEL_ERROR_CODES, code))
      say(`error code "${code}" is the kernel's; use it without declaring it`);
  }
  for (const job of def.jobs ?? []) checkJob(job, say);
  // Prefixed with the module's own name, a sealed kind is unique across modules and says whose value it is.
  const stored = new Set(def.sealed?.kinds ?? []);
  for (const kind of [...stored, ...(def.sealed?.transient ?? [])]) {
    if (!kind.startsWith(`${def.name}.`) || !SEALED_KIND.test(kind)) {
      say(`sealed kind "${kind}" must be "${def.name}.<field>" (lower case, dot-separated)`);
    }
  }
  for (const kind of def.sealed?.transient ?? []) {
    if (stored.has(kind)) say(`sealed kind "${kind}" is in both kinds (stored) and transient (never stored)`);
  }
  for (const [what, names] of [
    ["job", (def.jobs ?? []).map((j) => j.name)],
    ["subscription", (def.events?.subscribes ?? []).map((s) => s.name)],
  ] as const) {
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) say(`${what} "${name}" is declared twice`);
      seen.add(name);
    }
  }
}

function checkJob(job: JobDef, say: (problem: string) => void): void {
  if (!MODULE_NAME.test(job.name)) say(`job "${job.name}": name must be 1-63 chars of a-z, 0-9 and '-'`);
  const cron = cronProblem(job.cron);
  if (cron) say(`job "${job.name}": cron "${job.cron}" is not a five-field cron expression (${cron})`);
  for (const problem of policyProblems(job)) say(`job "${job.name}": ${problem}`);
}

/** The event types a module publishes, read from its declared union. */
export function publishedBy(def: ModuleDef): string[] {
  return def.events?.publishes ? eventTypes(def.events.publishes) : [];
}

/** Every event type published on the platform: the kernel's and each module's, sorted. */
export function publishedTypes(defs: readonly ModuleDef[]): string[] {
  return [...new Set([...eventTypes(KernelEvents), ...defs.flatMap(publishedBy)])].sort();
}

/**
 * Cross-module rules: an event type, an aggregate type and an error code
 * belong to one module; a subscription names only published types.
 */
const KernelEventTypes = new Set(eventTypes(KernelEvents));

function checkOwnership(defs: readonly ModuleDef[], problems: RegistryProblem[]): void {
  const owners = {
    event: new Map<string, string>(eventTypes(KernelEvents).map((t) => [t, KERNEL])),
    aggregate: new Map<string, string>(),
  };
  const claim = (what: "event" | "aggregate", key: string, module: string) => {
    const owner = owners[what].get(key);
    // The kernel's, whatever the module is called (a module named "kernel" is refused above).
    if (what === "event" && owner === KERNEL && KernelEventTypes.has(key)) {
      problems.push({ module, problem: `event type "${key}" is the kernel's` });
    } else if (owner !== undefined && owner !== module) {
      problems.push({ module, problem: `${what} type "${key}" is already declared by module "${owner}"` });
    } else owners[what].set(key, module);
  };
  for (const def of defs) {
    for (const type of publishedBy(def)) claim("event", type, def.name);
    for (const a of def.aggregates ?? []) claim("aggregate", a.decider.type, def.name);
  }
  const errorOwner = new Map<string, string>();
  for (const def of defs) {
    for (const code of Object.keys(def.errors ?? {})) {
      const owner = errorOwner.get(code);
      if (owner !== undefined) {
        problems.push({ module: def.name, problem: `error code "${code}" is already declared by module "${owner}"` });
      } else errorOwner.set(code, def.name);
    }
    for (const sub of def.events?.subscribes ?? []) {
      if (sub.types === "*") continue;
      for (const type of sub.types) {
        if (!owners.event.has(type)) {
          problems.push({
            module: def.name,
            problem: `subscription "${sub.name}" names event type "${type}", which no registered module publishes`,
          });
        }
      }
    }
  }
}

const VARIABLE_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The env is one namespace: a module variable is an upper-case name that no other module, no
 * binding and no kernel variable uses, a binding is no kernel variable's name, and a binding
 * name has one kind whoever declares it.
 */
function checkEnvNames(defs: readonly ModuleDef[], problems: RegistryProblem[]): void {
  const bindingOwner = new Map<string, { module: string; kind: string }>(
    Object.entries(KERNEL_BINDINGS).map(([name, kind]) => [name, { module: KERNEL, kind }]),
  );
  for (const def of defs) {
    for (const [name, kind] of Object.entries(def.bindings ?? {})) {
      const owner = bindingOwner.get(name);
      if (KERNEL_VARIABLES.has(name)) {
        problems.push({ module: def.name, problem: `binding "${name}" is the name of a kernel variable` });
      } else if (owner === undefined) bindingOwner.set(name, { module: def.name, kind });
      else if (owner.kind !== kind) {
        const by = owner.module === KERNEL ? "the kernel" : `module "${owner.module}"`;
        problems.push({
          module: def.name,
          problem: `binding "${name}" is a ${owner.kind} binding of ${by}, not ${kind}`,
        });
      }
    }
  }
  const variableOwner = new Map<string, string>();
  for (const def of defs) {
    for (const name of Object.keys(def.variables ?? {})) {
      const say = (problem: string) => problems.push({ module: def.name, problem: `variable "${name}" ${problem}` });
      const owner = variableOwner.get(name);
      if (!VARIABLE_NAME.test(name)) say("must be 1-64 chars of A-Z, 0-9 and '_', starting with a letter");
      else if (KERNEL_VARIABLES.has(name)) say("is the kernel's");
      else if (bindingOwner.has(name)) say("is the name of a binding");
      else if (owner !== undefined) say(`is already declared by module "${owner}"`);
      else variableOwner.set(name, def.name);
    }
  }
}

function checkDependencies(def: ModuleDef, byName: Map<string, ModuleDef>, problems: RegistryProblem[]): void {
  for (const [dependency, range] of Object.entries(def.depends_on ?? {})) {
    const say = (problem: string) => problems.push({ module: def.name, problem });
    if (semver.validRange(range) === null) {
      say(`depends on "${dependency}" with an invalid version range "${range}"`);
      continue;
    }
    const target = byName.get(dependency);
    if (!target) {
      say(`depends on "${dependency}" (${range}), which is not registered`);
    } else if (semver.valid(target.version) && !semver.satisfies(target.version, range)) {
      say(`depends on "${dependency}" ${range}, but version ${target.version} is registered`);
    }
  }
}

/**
 * Orders modules so each comes after its dependencies (Kahn's algorithm;
 * ties keep registration order, so the result is deterministic). Returns the
 * modules on a cycle when there is one.
 */
function topologicalOrder(defs: readonly ModuleDef[]): { order: ModuleDef[]; cycle: string[] | null } {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const remaining = new Map<string, number>();
  for (const d of defs) {
    const deps = Object.keys(d.depends_on ?? {}).filter((n) => byName.has(n));
    remaining.set(d.name, deps.length);
  }
  const order: ModuleDef[] = [];
  const placed = new Set<string>();
  while (order.length < defs.length) {
    const next = defs.find((d) => !placed.has(d.name) && remaining.get(d.name) === 0);
    if (!next) break;
    order.push(next);
    placed.add(next.name);
    for (const d of defs) {
      if (!placed.has(d.name) && d.depends_on && next.name in d.depends_on) {
        remaining.set(d.name, (remaining.get(d.name) ?? 1) - 1);
      }
    }
  }
  if (order.length === defs.length) return { order, cycle: null };
  return {
    order,
    cycle: findCycle(
      defs.filter((d) => !placed.has(d.name)),
      byName,
    ),
  };
}

/** Walks dependency edges among the unplaced modules until one repeats. */
function findCycle(unplaced: ModuleDef[], byName: Map<string, ModuleDef>): string[] {
  const path: string[] = [];
  let current = unplaced[0];
  while (current && !path.includes(current.name)) {
    path.push(current.name);
    const nextName: string | undefined = Object.keys(current.depends_on ?? {}).find(
      (n) => byName.has(n) && unplaced.some((u) => u.name === n),
    );
    current = nextName ? byName.get(nextName) : undefined;
  }
  if (!current) return path;
  return [...path.slice(path.indexOf(current.name)), current.name];
}

/**
 * Validates the registered modules and returns them in dependency order.
 * Refuses duplicate names, malformed names and versions, missing or
 * unsatisfied dependencies, dependency cycles, a permission declared by
 * two modules, a route served twice or never reached, an `event_read` rule for
 * another's events or permission, a rate-limit policy outside `<module>.<name>` or named as the
 * kernel's, and a Durable Object of its own with no `erasure` (nor named
 * tenant-free); every problem names the module.
 *
 * @throws {ModuleRegistryError} listing every problem found.
 */
export function resolveModules(defs: readonly ModuleDef[]): ModuleDef[] {
  const problems: RegistryProblem[] = [];
  const byName = new Map<string, ModuleDef>();
  for (const def of defs) {
    if (byName.has(def.name))
      problems.push({ module: def.name, problem: "is registered twice (module names must be unique)" });
    else byName.set(def.name, def);
    checkModule(def, problems);
  }
  const permissionOwner = new Map<string, string>();
  for (const def of byName.values()) {
    checkDependencies(def, byName, problems);
    for (const permission of def.permissions ?? []) {
      const owner = permissionOwner.get(permission);
      if (owner !== undefined) {
        problems.push({
          module: def.name,
          problem: `permission "${permission}" is already declared by module "${owner}"`,
        });
      } else permissionOwner.set(permission, def.name);
    }
  }
  checkOwnership([...byName.values()], problems);
  checkEnvNames([...byName.values()], problems);
  problems.push(...routeProblems([...byName.values()]));
  problems.push(...grantProblems([...byName.values()]));
  problems.push(...rateLimitProblems([...byName.values()]));
  const publishers = [
    ...eventTypes(KernelEvents).map((type) => ({ type, module: KERNEL })),
    ...[...byName.values()].flatMap((def) => publishedBy(def).map((type) => ({ type, module: def.name }))),
  ];
  problems.push(...eventReadProblems([...byName.values()], publishers));
  problems.push(...objectErasureProblems([...byName.values()]));
  for (const [part, what] of Object.entries(SINGLE_PROVIDERS) as [SingleProvided, string][]) {
    const providers = [...byName.values()].filter((d) => d.auth?.[part] !== undefined);
    for (const extra of providers.slice(1)) {
      problems.push({
        module: extra.name,
        problem: `provides ${what}, but module "${providers[0]?.name}" already does`,
      });
    }
  }
  const unique = [...byName.values()];
  const { order, cycle } = topologicalOrder(unique);
  if (cycle) {
    const first = cycle[0] ?? "?";
    problems.push({ module: first, problem: `is part of a dependency cycle: ${cycle.join(" -> ")}` });
  } else problems.push(...shadowProblems(order));
  if (problems.length > 0) throw new ModuleRegistryError(problems);
  return order;
}
