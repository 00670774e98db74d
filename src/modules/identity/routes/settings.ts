import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { tenantOf } from "../../../kernel/auth/guards";
import type { AppEnv } from "../../../kernel/env";
import { AppError, type FieldError, fieldPath } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { ETAG_HEADER, IfMatchHeader, ifMatch, jsonBody, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, fieldErrors, problem } from "../../../kernel/openapi/router";
import {
  effectivePolicy,
  floorFor,
  maxLimitFor,
  type Policies,
  type PolicyName,
  policyNamed,
  TENANT_FLOOR_PER_MINUTE,
  tenantSettable,
} from "../../../kernel/ratelimit/policies";
import { directory } from "../directory/contract";
import { type Settings, SettingsPatchSchema, SettingsSchema, TenantRateSchema } from "../directory/settings";
import { MailLinksChangeSchema, mailLinkWarnings, SettingsWarningSchema } from "../mail-links";
import { refused, staleVersion } from "../refusals";
import { forgetSettings } from "../settings";
import { SignupPolicyChangeSchema } from "../signup";

const op = operations(["settings"]);

const Origin = z
  .string()
  .max(253)
  .refine((o) => {
    try {
      const url = new URL(o);
      return (url.protocol === "https:" || url.protocol === "http:") && url.origin === o;
    } catch {
      return false;
    }
  }, "must be an origin: scheme, host and port only, as https://app.example.com");

const Patch = SettingsPatchSchema.extend({
  signup: SignupPolicyChangeSchema.optional(),
  mail_links: MailLinksChangeSchema.optional(),
  cors_origins: z.array(Origin).max(20).optional(),
}).strict();

/** The settings as the routes answer them: with `warnings` when a stored value needs its owner's attention. */
const SettingsViewSchema = SettingsSchema.extend({
  warnings: z.array(SettingsWarningSchema).optional().openapi({
    description:
      "present only when a stored value works no longer or not as it should (a mail link saved before a check a PATCH now makes): each names the field and what to do",
  }),
}).openapi("TenantSettingsView");

/** The settings with their warnings, if any (absent when none, as a passing readiness check's `warning`). */
function viewOf(settings: Settings) {
  const warnings = mailLinkWarnings(settings.mail_links);
  return warnings.length > 0 ? { ...settings, warnings } : settings;
}

const get = op.get("/admin/settings", {
  operationId: "getSettings",
  summary: "The tenant's settings (ETag: their version)",
  access: PERMISSIONS.admin.settings.read,
  responses: { 200: jsonResponse("the settings", SettingsViewSchema, ETAG_HEADER) },
});

const patch = op.patch("/admin/settings", {
  operationId: "updateSettings",
  summary: "Change the tenant's settings; honours If-Match",
  access: PERMISSIONS.admin.settings.write,
  request: { headers: IfMatchHeader, body: jsonBody(Patch) },
  responses: {
    200: jsonResponse("the settings after the change", SettingsViewSchema, ETAG_HEADER),
    400: problem(
      "an invalid field (a mail link with its token outside the fragment among them), an unknown policy, a limit above the platform's maximum, or a tenant limit under 60 a minute, each named",
    ),
    403: problem("a change of `mail_links` by a caller who is not an owner (they carry owners' reset tokens)"),
    412: problem("If-Match names another version"),
  },
});

/** Whether `name` is one of the platform's policies (a tenant's body may name any string). */
const isPolicyName = (policies: Policies, name: string): name is PolicyName => Object.hasOwn(policies, name);

/**
 * A tenant may set its own limits only for policies that allow it, up to the
 * platform's maxima (for `tenant` and `tenant_anonymous`, the plan's limit). Takes the body's `rate_limits` as sent, since it runs
 * whether or not the rest of the body is valid; an entry of the wrong shape
 * is left to zod, which names it.
 */
function rateLimitErrors(c: Context<AppEnv>, limits: Record<string, unknown>): FieldError[] {
  const policies = c.get("config").ratePolicies;
  const plan = tenantOf(c).plan;
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(limits)) {
    const path = (...rest: string[]) => fieldPath(["body", "rate_limits", name, ...rest]);
    if (!isPolicyName(policies, name) || !policyNamed(policies, name).tenant_override) {
      errors.push({
        path: path(),
        message: `not a policy a tenant may set; one of ${tenantSettable(policies).join(", ")}`,
      });
      continue;
    }
    const rate = TenantRateSchema.safeParse(value);
    if (!rate.success) continue;
    const max = maxLimitFor(effectivePolicy(policies, name, plan, undefined), rate.data.period_s);
    if (rate.data.limit > max)
      errors.push({ path: path("limit"), message: `at most ${max} per ${rate.data.period_s} s` });
    const min = floorFor(name, rate.data.period_s);
    if (rate.data.limit < min)
      errors.push({
        path: path("limit"),
        message: `at least ${min} per ${rate.data.period_s} s (${TENANT_FLOOR_PER_MINUTE} a minute) for a whole tenant`,
      });
  }
  return errors;
}

/** Just enough of the body to check its limits against the platform's policies. */
const RateLimitsOf = z.object({ rate_limits: z.record(z.string(), z.unknown()) });

/** `/api/v1/admin/settings`. */
export const settingsRoutes = createRouter()
  .openapi(get, async (c) => {
    const settings = await directory(c.env, tenantOf(c).id).settings();
    c.header("ETag", `"${settings.version}"`);
    return c.json(viewOf(settings), 200);
  })
  .openapi(
    patch,
    async (c) => {
      const body = c.req.valid("json");
      const tenant = tenantOf(c);
      const result = await directory(c.env, tenant.id).updateSettings({
        ctx: originOf(c),
        patch: body,
        expectedVersion: ifMatch(c),
      });
      if (!result.ok && result.error === "denied") throw refused(c, result.refusal);
      if (!result.ok) throw staleVersion("the settings", result.current_version);
      forgetSettings(tenant.id);
      c.header("ETag", `"${result.value.version}"`);
      return c.json(viewOf(result.value), 200);
    },
    // The policy checks need the request's config, so they cannot be in the schema; they run
    // here, beside zod's, so that one 400 names every problem of the body, not one kind a time.
    (result, c) => {
      const errors = result.success ? [] : fieldErrors(result.target, result.error);
      if (result.target === "json") {
        // @hono/zod-validator hands the hook the body as sent when zod refuses it too (its
        // Hook type says so; zod-openapi's leaves it out), so the limits are checked either way.
        const sent = RateLimitsOf.safeParse("data" in result ? result.data : undefined);
        if (sent.success) errors.push(...rateLimitErrors(c, sent.data.rate_limits));
      }
      if (errors.length > 0) {
        throw new AppError("validation_failed", {
          detail: `${errors.length} invalid field${errors.length === 1 ? "" : "s"}`,
          errors,
        });
      }
      return undefined;
    },
  );
