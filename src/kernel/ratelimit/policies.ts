import { z } from "zod";
import type { ModuleDef } from "../modules/types";

/**
 * How a policy decides: `sync` asks the key's Durable Object before the
 * handler runs (exact); `async` decides from the isolate's own estimate and
 * reconciles with the object after the response (fast, approximate); `off`
 * does not limit: no state is kept and the policy is left out of the
 * RateLimit headers.
 */
export const RateModeSchema = z.enum(["sync", "async", "off"]);

/** What a request gets when the limiter cannot be reached: `open` lets it through, `closed` answers 503. */
export const RateFailureSchema = z.enum(["open", "closed"]);

/** One policy: `limit` requests per `period_s`, `burst` at once. */
export const PolicySchema = z.object({
  limit: z.number().int().min(1).max(10_000_000),
  period_s: z.number().int().min(1).max(604_800),
  burst: z.number().int().min(1).max(10_000_000),
  mode: RateModeSchema,
  on_failure: RateFailureSchema,
  /** Whether a tenant may set its own limit and period for it in its settings (up to `max_limit`). */
  tenant_override: z.boolean(),
  /** The highest limit per period a tenant may set. */
  max_limit: z.number().int().min(1).max(10_000_000),
});
export type Policy = z.infer<typeof PolicySchema>;

const minute = 60;
const hour = 3600;

/**
 * The platform's policies. Defaults a normal client never meets and that
 * stop a flood: per principal in the order of 100 requests/s with bursts,
 * tighter per IP where there is no principal, and tight per account and per
 * IP on credentials and mail. `RATE_LIMITS` (a JSON object of partial
 * policies) changes them per deployment; the test suite and the bench set
 * their own.
 *
 * - `principal`: every `/api/v1` request of a user, key or the platform, per principal.
 * - `tenant`: every request of a tenant's users and keys, together (by plan, see {@link PLAN_TENANT_LIMITS}).
 * - `anonymous`: every `/api/v1` request without a credential, per client IP.
 * - `tenant_anonymous`: every request without a credential that names a tenant, per tenant (by plan, a
 *   third of its `tenant` limit, see {@link PLAN_TENANT_ANONYMOUS_LIMITS}). Kept apart from `tenant`, so
 *   an anonymous crowd (each address within its own `anonymous` allowance) cannot answer the
 *   tenant's signed-in users and keys 429.
 * - `auth_failures`: credentials and tenant names refused by the request path, per client IP. Charged
 *   only on a refusal, and consulted before the next lookup only through what the isolate knows
 *   (kernel/ratelimit/failures.ts), so a good request pays no limiter call for it.
 * - `login`: wrong passwords per tenant and email (each try is charged before hashing, a right one
 *   refunded: see `refund` in limiter.ts; a completed password reset restores it whole: `restore`); `login_ip`: every attempt per client IP (also invitations
 *   accepted and password resets confirmed: each hashes a password).
 * - `mail`: verification and reset mail per tenant and email, and apart from them invitations per
 *   tenant and email (routes/invitations.ts); `mail_ip`: per client IP.
 * - `register`: registrations per client IP.
 * - `two_factor`: two-factor codes tried per user (login, confirmation, disabling): 5 per
 *   5 minutes, failing closed, since a 6-digit code is all that stands behind a known password.
 *   Charged before the check; a code the directory accepts is refunded (as `login` refunds a right
 *   password), so it counts wrong codes, which a right one cannot make room for.
 * - `invitations`: invitation mail per tenant, whatever the addresses. `mail` bounds what one
 *   address receives; this bounds what one tenant sends to strangers from the platform's sender,
 *   whose reputation every tenant shares, so a tenant cannot raise it (an operator can, with
 *   `RATE_LIMITS`). 200 an hour is a large team's onboarding; a burst of 50 lets an admin paste
 *   a department's list at once, while a tenant bent on spam gets about 5,000 a day, not the
 *   millions its `tenant` request budget would allow.
 * - `personal_export`: a user's exports of their own data (`GET /api/v1/me/export`), per tenant and
 *   user. Each reads every module's records of the person, so it is the costliest read a member can
 *   make; 4 an hour (2 at once) is more than a person needs to take a copy, and failing closed keeps
 *   a limiter outage from opening it to a loop. A tenant cannot raise it (an operator can).
 * - `member_export`: an administrator's exports of members' data (`GET /api/v1/users/{id}/export`),
 *   per tenant and caller (a user or a key), refusals included. Apart from `personal_export`: an
 *   administrator answers others' requests, a backlog of them at times, and their own export is
 *   theirs. 30 an hour (10 at once) answers a week's requests in an afternoon, while a leaked admin
 *   key walking every member id to copy everyone takes hours per thousand, each export in the
 *   audit log. Failing closed, not raised by a tenant (an operator can).
 */
export const DEFAULT_POLICIES = {
  principal: {
    limit: 6000,
    period_s: minute,
    burst: 200,
    mode: "async",
    on_failure: "open",
    tenant_override: true,
    max_limit: 60_000,
  },
  tenant: {
    limit: 18_000,
    period_s: minute,
    burst: 600,
    mode: "async",
    on_failure: "open",
    tenant_override: true,
    max_limit: 180_000,
  },
  anonymous: {
    limit: 600,
    period_s: minute,
    burst: 60,
    mode: "async",
    on_failure: "open",
    tenant_override: false,
    max_limit: 600,
  },
  tenant_anonymous: {
    limit: 6000,
    period_s: minute,
    burst: 200,
    mode: "async",
    on_failure: "open",
    tenant_override: true,
    max_limit: 60_000,
  },
  auth_failures: {
    limit: 60,
    period_s: minute,
    burst: 30,
    mode: "async",
    on_failure: "open",
    tenant_override: false,
    max_limit: 60,
  },
  login: {
    limit: 10,
    period_s: 15 * minute,
    burst: 5,
    mode: "sync",
    on_failure: "open",
    tenant_override: true,
    max_limit: 100,
  },
  login_ip: {
    limit: 60,
    period_s: minute,
    burst: 20,
    mode: "sync",
    on_failure: "open",
    tenant_override: false,
    max_limit: 60,
  },
  mail: {
    limit: 5,
    period_s: hour,
    burst: 3,
    mode: "sync",
    on_failure: "closed",
    tenant_override: true,
    max_limit: 50,
  },
  mail_ip: {
    limit: 30,
    period_s: hour,
    burst: 10,
    mode: "sync",
    on_failure: "closed",
    tenant_override: false,
    max_limit: 30,
  },
  register: {
    limit: 20,
    period_s: hour,
    burst: 10,
    mode: "sync",
    on_failure: "open",
    tenant_override: false,
    max_limit: 20,
  },
  two_factor: {
    limit: 5,
    period_s: 5 * minute,
    burst: 5,
    mode: "sync",
    on_failure: "closed",
    tenant_override: false,
    max_limit: 5,
  },
  invitations: {
    limit: 200,
    period_s: hour,
    burst: 50,
    mode: "sync",
    on_failure: "closed",
    tenant_override: false,
    max_limit: 200,
  },
  personal_export: {
    limit: 4,
    period_s: hour,
    burst: 2,
    mode: "sync",
    on_failure: "closed",
    tenant_override: false,
    max_limit: 4,
  },
  member_export: {
    limit: 30,
    period_s: hour,
    burst: 10,
    mode: "sync",
    on_failure: "closed",
    tenant_override: false,
    max_limit: 30,
  },
} as const satisfies Record<string, Policy>;

/** A policy of the platform's own, above. */
export type KernelPolicyName = keyof typeof DEFAULT_POLICIES;

/**
 * A policy a module declares (`ModuleDef.rate_limits`), named `<module>.<name>`: the registry
 * checks each, so the kernel needs no module's name, only this shape, which no kernel name has.
 */
export type ModulePolicyName = `${string}.${string}`;

/** A policy `enforce` and the others charge: the kernel's, or a registered module's. */
export type PolicyName = KernelPolicyName | ModulePolicyName;

/** Every policy of a deployment by name: the kernel's, and those the registered modules declare. */
export type Policies = Readonly<Record<KernelPolicyName, Policy>> & Readonly<Partial<Record<ModulePolicyName, Policy>>>;

/** Whether `name` is one of the kernel's own policies. */
export const isKernelPolicy = (name: string): name is KernelPolicyName => Object.hasOwn(DEFAULT_POLICIES, name);

/** A route charged a policy no registered module declares: a programming error, answered 500. */
export class UnknownPolicyError extends Error {
  constructor(name: string) {
    super(`rate-limit policy "${name}" is not declared by the kernel or any registered module (ModuleDef.rate_limits)`);
    this.name = "UnknownPolicyError";
  }
}

/** Policy `name` of `policies`; throws {@link UnknownPolicyError} for a name none declares. */
export function policyNamed(policies: Policies, name: PolicyName): Policy {
  const policy = Object.hasOwn(policies, name) ? (policies as Record<string, Policy | undefined>)[name] : undefined;
  if (!policy) throw new UnknownPolicyError(name);
  return policy;
}

/** The `tenant` policy's limit per minute by plan; other plans get `free`'s. */
export const PLAN_TENANT_LIMITS = {
  free: 18_000,
  pro: 60_000,
  enterprise: 180_000,
} as const satisfies Record<string, number>;

export type Plan = keyof typeof PLAN_TENANT_LIMITS;

/**
 * The `tenant_anonymous` policy's limit per minute by plan: a third of the plan's `tenant` limit.
 * Anonymous requests (logins, registrations, public reads naming the tenant) get a budget of their
 * own, sized so that a plan's total is its `tenant` limit plus a third more at most.
 */
export const PLAN_TENANT_ANONYMOUS_LIMITS = {
  free: 6000,
  pro: 20_000,
  enterprise: 60_000,
} as const satisfies Record<Plan, number>;

/** The policies a plan sets the limit of, with their limits by plan. */
const PLAN_LIMITS: Partial<Record<KernelPolicyName, Record<Plan, number>>> = {
  tenant: PLAN_TENANT_LIMITS,
  tenant_anonymous: PLAN_TENANT_ANONYMOUS_LIMITS,
};

/**
 * The plans a tenant may be created with: those with a limit above, where a plan is added.
 * A misspelt one ("Pro", "gold") is refused rather than given free's limits.
 */
export const PLANS = Object.keys(PLAN_TENANT_LIMITS) as [Plan, ...Plan[]];

/**
 * `RATE_LIMITS`: partial policies by name, as the config reads them. Which names it may hold
 * depends on the registered modules, so the config checks them apart ({@link unknownOverrides}).
 */
export const PolicyOverridesSchema = z.record(z.string(), PolicySchema.partial());
export type PolicyOverrides = Partial<Record<PolicyName, Partial<Policy>>>;

/** Whether `overrides` names a policy that is neither the kernel's nor one of `declared` (the registered modules'). */
export function unknownOverrides(overrides: PolicyOverrides, declared: Readonly<Record<string, Policy>>) {
  return Object.keys(overrides).some((name) => !isKernelPolicy(name) && !Object.hasOwn(declared, name));
}

/** The platform's policies: the defaults and the modules' `declared` ones, with `RATE_LIMITS` applied. */
export function platformPolicies(
  overrides: PolicyOverrides = {},
  declared: Readonly<Record<string, Policy>> = {},
): Policies {
  const out: Record<string, Policy> = { ...declared, ...DEFAULT_POLICIES };
  for (const [name, partial] of Object.entries(overrides)) {
    const base = out[name];
    // A name no policy has was refused by the config check before this runs.
    if (base) out[name] = PolicySchema.parse({ ...base, ...partial });
  }
  return out as Policies;
}

/**
 * The policies among `policies` a tenant may set its own limit for (`tenant_override`), in their
 * order: the list a refused setting's 400 names, and (of the defaults) the settings schema's.
 */
export const tenantSettable = (policies: Policies): PolicyName[] =>
  (Object.keys(policies) as PolicyName[]).filter((name) => policyNamed(policies, name).tenant_override);

/** A tenant's own limit for a policy, from its settings. */
export interface TenantRate {
  limit: number;
  period_s: number;
}

/**
 * The policy a tenant gets: the platform's, with the tenant's plan (for
 * `tenant` and `tenant_anonymous`) and its own override where the policy allows one. An override
 * above `max_limit` was refused when it was saved; it is clamped here too.
 * For those two the plan's limit is that ceiling: the plan is the operator's
 * word, so a tenant's own setting may lower it but never buy a bigger plan's.
 * Called without an override, it is the ceiling a tenant's setting is checked
 * against when saved.
 */
export function effectivePolicy(
  policies: Policies,
  name: PolicyName,
  plan: string | undefined,
  override: TenantRate | undefined,
): Policy {
  let policy = policyNamed(policies, name);
  const byPlan = isKernelPolicy(name) ? PLAN_LIMITS[name] : undefined;
  if (byPlan && plan !== undefined) {
    // Tenants stored before plans were checked may hold another name: they get free's.
    const limit = Object.hasOwn(byPlan, plan) ? byPlan[plan as Plan] : byPlan.free;
    const planLimit = Math.min(limit, policy.max_limit);
    // Clamped again here, not only when saved: a limit saved under a bigger plan outlives a downgrade.
    policy = { ...policy, limit: planLimit, max_limit: planLimit };
  }
  if (override && policy.tenant_override) {
    // A period too short to hold one request of the ceiling (a value saved before `max_limit` was
    // lowered) takes the ceiling at the policy's own period: the floor of 1 below would otherwise
    // lift it above the ceiling (1 per 360 s saved under 10 an hour is 10 an hour under 5).
    const own =
      maxLimitFor(policy, override.period_s) >= 1 ? override : { limit: policy.max_limit, period_s: policy.period_s };
    // The floor applies here too, not only when saved: a value saved before it existed is lifted.
    const min = floorFor(name, own.period_s);
    const limit = Math.max(min, Math.min(own.limit, maxLimitFor(policy, own.period_s)));
    policy = { ...policy, limit, period_s: own.period_s, burst: Math.min(policy.burst, limit) };
  }
  return policy;
}

/**
 * The lowest `tenant` limit a tenant may set over `period_s`: 60 a minute, scaled. The limit
 * holds every request of every user and key of the tenant, the PATCH that would raise it
 * included, so below one a second on average it is a lockout rather than a budget (one
 * dashboard page is several requests). A key's own `principal` limit has no floor: one a day
 * may be meant for a key, and another key can still undo it.
 */
export const TENANT_FLOOR_PER_MINUTE = 60;
export const tenantFloorFor = (period_s: number) => Math.ceil((TENANT_FLOOR_PER_MINUTE * period_s) / 60);

/**
 * The lowest limit a tenant may set for policy `name` over `period_s`: the whole-tenant floor for
 * `tenant` and for `tenant_anonymous` (which every login and registration of the tenant passes,
 * so under one a second it locks out every user whose session ends), 1 for the others.
 */
export const floorFor = (name: PolicyName, period_s: number): number =>
  name === "tenant" || name === "tenant_anonymous" ? tenantFloorFor(period_s) : 1;

/** The highest limit a tenant may set over `period_s`: the policy's `max_limit` as a rate, scaled to that period. */
export function maxLimitFor(policy: Policy, period_s: number): number {
  return Math.floor((policy.max_limit * period_s) / policy.period_s);
}

/**
 * `RATE_LIMITS` with every policy off: the kernel's, and those `modules` declare
 * (`ModuleDef.rate_limits`). For test suites that send thousands of requests
 * from one principal and one address, and name the policies they test on top
 * (a named policy starts from its default, mode included). Off rather than
 * merely high, so no limiter state is kept: a bucket counted by one test's
 * clock (a manual one years ahead, say) is never read by another test under
 * another clock, whatever storage the tests share.
 *
 * Pass the modules the test's platform is built over, so a module's own
 * policies are off as the kernel's are; a module not among them is not named
 * (`RATE_LIMITS` naming a policy no registered module declares is refused).
 * The suite's env (vitest.bindings.ts) is built in Node without the module
 * list, so it turns off the kernel's only.
 *
 * @example
 * const mods = [...modules, tickets()];
 * testApp(mods, { RATE_LIMITS: JSON.stringify(policiesOff(mods)) });
 */
export function policiesOff(modules: readonly Pick<ModuleDef, "rate_limits">[] = []): PolicyOverrides {
  const names = [...Object.keys(DEFAULT_POLICIES), ...modules.flatMap((m) => Object.keys(m.rate_limits ?? {}))];
  return Object.fromEntries(names.map((name) => [name, { mode: "off" }]));
}
