import { IdParam } from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { callOf } from "./platform-call";
import { clearRateLimits } from "./rate-limits";

const op = operations(["platform"]);

const reset = op.delete("/tenants/{id}/rate-limits", {
  operationId: "clearTenantRateLimits",
  summary:
    "Clear a tenant's own rate limits (its settings' rate_limits), so its plan's apply again: the way out of a limit it set too low to undo",
  access: "platform",
  request: { params: IdParam },
  responses: {
    204: { description: "cleared: at once in this isolate, within 10 s everywhere" },
    404: problem("no such tenant"),
  },
});

/**
 * `DELETE /api/v1/platform/tenants/{id}/rate-limits`. A repeat is harmless: there is
 * nothing left to clear, and nothing more is recorded.
 */
export const rateLimitsRoutes = createRouter().openapi(reset, async (c) => {
  await clearRateLimits(c.env, c.req.valid("param").id, { ...callOf(c), log: c.get("log") });
  return c.body(null, 204);
});
