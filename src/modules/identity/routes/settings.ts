import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { tenantOf } from "../../../kernel/auth/guards";
import type { AppEnv } from "../../../kernel/env";
import { AppError, type FieldError } from "../../../kernel/errors";
import { IfMatchHeader, ifMatch, jsonBody, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { maxLimitFor, type PolicyName } from "../../../kernel/ratelimit/policies";
import { directory } from "../directory/contract";
import { type SettingsPatch, SettingsPatchSchema, SettingsSchema } from "../directory/settings";
import { ctxOf } from "../services";
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
  cors_origins: z.array(Origin).max(20).optional(),
}).strict();

const get = op.get("/admin/settings", {
  operationId: "getSettings",
  summary: "The tenant's settings (ETag: their version)",
  access: PERMISSIONS.admin.settings.read,
  responses: { 200: jsonResponse("the settings", SettingsSchema) },
});

const patch = op.patch("/admin/settings", {
  operationId: "updateSettings",
  summary: "Change the tenant's settings; honours If-Match",
  access: PERMISSIONS.admin.settings.write,
  request: { headers: IfMatchHeader, body: jsonBody(Patch) },
  responses: {
    200: jsonResponse("the settings after the change", SettingsSchema),
    400: problem("an invalid field, an unknown policy, or a limit above the platform's maximum, each named"),
    412: problem("If-Match names another version"),
  },
});

/** A tenant may set its own limits only for policies that allow it, up to the platform's maxima. */
function checkRateLimits(c: Context<AppEnv>, limits: SettingsPatch["rate_limits"]): void {
  const policies = c.get("config").ratePolicies;
  const errors: FieldError[] = [];
  for (const [name, rate] of Object.entries(limits ?? {})) {
    const path = `body.rate_limits.${name}`;
    const policy = Object.hasOwn(policies, name) ? policies[name as PolicyName] : undefined;
    if (!policy?.tenant_override) {
      const allowed = Object.entries(policies).flatMap(([n, p]) => (p.tenant_override ? [n] : []));
      errors.push({ path, message: `not a policy a tenant may set; one of ${allowed.join(", ")}` });
      continue;
    }
    const max = maxLimitFor(policy, rate.period_s);
    if (rate.limit > max) errors.push({ path: `${path}.limit`, message: `at most ${max} per ${rate.period_s} s` });
  }
  if (errors.length > 0) {
    throw new AppError("validation_failed", { detail: `${errors.length} invalid rate limit(s)`, errors });
  }
}

/** `/api/v1/admin/settings`. */
export const settingsRoutes = createRouter()
  .openapi(get, async (c) => {
    const settings = await directory(c.env, tenantOf(c).id).settings();
    c.header("ETag", `"${settings.version}"`);
    return c.json(settings, 200);
  })
  .openapi(patch, async (c) => {
    const body = c.req.valid("json");
    checkRateLimits(c, body.rate_limits);
    const tenant = tenantOf(c);
    const result = await directory(c.env, tenant.id).updateSettings({
      ctx: ctxOf(c),
      patch: body,
      expectedVersion: ifMatch(c),
    });
    if (!result.ok) throw new AppError("version_conflict", { detail: "the settings changed since the version named" });
    forgetSettings(tenant.id);
    c.header("ETag", `"${result.value.version}"`);
    return c.json(result.value, 200);
  });
