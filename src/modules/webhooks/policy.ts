import { z } from "zod";
import { DEFAULT_POLICY, type DeliveryPolicy } from "./domain";

const ms = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400_000);

/**
 * `WEBHOOK_POLICY`: an optional JSON object overriding parts of the delivery
 * policy (docs/webhooks.md), e.g. `{"retry_base_ms":1000}`. Tests and local
 * demos shorten the three-day schedule with it; production keeps the default.
 */
const OverridesSchema = z
  .object({
    retry_base_ms: ms.min(1),
    retry_max_ms: ms.min(1),
    give_up_after_ms: ms,
    max_attempts: z.number().int().min(1).max(1_000),
    disable_after_ms: ms,
    disable_after_failures: z.number().int().min(1).max(10_000),
    attempt_timeout_ms: z.number().int().min(100).max(30_000),
    breaker_window_ms: ms.min(1_000),
    breaker_minimum_calls: z.number().int().min(1).max(1_000),
    breaker_failure_rate: z.number().min(0.01).max(1),
    breaker_cool_down_ms: ms.min(1),
    tenant_concurrency: z.number().int().min(1).max(1_000),
  })
  .partial()
  .strict();

const cache = new Map<string, DeliveryPolicy>();

/** WEBHOOK_POLICY's overrides, or what is wrong with them (field paths and expectations, never a value). */
function parseOverrides(
  raw: string,
): { ok: true; overrides: z.infer<typeof OverridesSchema> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: "is not JSON" };
  }
  const parsed = OverridesSchema.safeParse(json);
  if (parsed.success) return { ok: true, overrides: parsed.data };
  // Joined with dots, not fieldPath: the schema is strict over fixed snake_case keys, so a path is
  // one of them or empty (an unknown key, `a.b` included, is named in the message, not the path).
  return {
    ok: false,
    problem: `is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
  };
}

/**
 * The module's variables (manifest `variables`): the config check that answers every request
 * runs WEBHOOK_POLICY's parse, so a bad one is `config_invalid` naming it, not an error thrown
 * inside the endpoint objects on their first delivery.
 */
export const WEBHOOK_VARIABLES = {
  WEBHOOK_POLICY: z.unknown().superRefine((raw, ctx) => {
    if (typeof raw !== "string" || raw.trim() === "") return;
    const parsed = parseOverrides(raw);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: `${parsed.problem} (docs/webhooks.md)` });
  }),
};

/**
 * The delivery policy of this deployment: the default with WEBHOOK_POLICY
 * applied. Throws naming the bad field (never a value) when it does not parse.
 */
export function deliveryPolicy(env: Env): DeliveryPolicy {
  // An optional variable outside wrangler.toml, so not in the generated Env type.
  const raw: unknown = Reflect.get(env, "WEBHOOK_POLICY");
  if (typeof raw !== "string" || raw.trim() === "") return DEFAULT_POLICY;
  const known = cache.get(raw);
  if (known) return known;
  const parsed = parseOverrides(raw);
  if (!parsed.ok) throw new Error(`WEBHOOK_POLICY ${parsed.problem}`);
  const o = parsed.overrides;
  const d = DEFAULT_POLICY;
  const policy: DeliveryPolicy = {
    ...d,
    retry: { baseMs: o.retry_base_ms ?? d.retry.baseMs, maxMs: o.retry_max_ms ?? d.retry.maxMs },
    giveUpAfterMs: o.give_up_after_ms ?? d.giveUpAfterMs,
    maxAttempts: o.max_attempts ?? d.maxAttempts,
    disableAfterMs: o.disable_after_ms ?? d.disableAfterMs,
    disableAfterFailures: o.disable_after_failures ?? d.disableAfterFailures,
    attemptTimeoutMs: o.attempt_timeout_ms ?? d.attemptTimeoutMs,
    breaker: {
      ...d.breaker,
      windowMs: o.breaker_window_ms ?? d.breaker.windowMs,
      minimumCalls: o.breaker_minimum_calls ?? d.breaker.minimumCalls,
      failureRate: o.breaker_failure_rate ?? d.breaker.failureRate,
      coolDownMs: o.breaker_cool_down_ms ?? d.breaker.coolDownMs,
    },
    tenantConcurrency: o.tenant_concurrency ?? d.tenantConcurrency,
  };
  cache.set(raw, policy);
  return policy;
}
