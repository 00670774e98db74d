import { IdParam, jsonResponse } from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { deleteTenant } from "./deletion";
import { TenantSchema } from "./domain";
import { callOf } from "./platform-call";

const op = operations(["platform"]);

const remove = op.delete("/tenants/{id}", {
  operationId: "deleteTenant",
  summary:
    "Delete a tenant and erase its data: its requests answer 404 tenant_not_found at once; a background job erases it (export its audit log first)",
  access: "platform",
  request: { params: IdParam },
  responses: {
    202: jsonResponse("the tenant, now deleting; get it to watch the erasure's progress", TenantSchema),
    404: problem("no such tenant (or already erased)"),
  },
});

/**
 * `DELETE /api/v1/platform/tenants/{id}`: accepted, not done; the answer says
 * what happens next. A repeat is harmless (HTTP DELETE is idempotent; the
 * kernel's `Idempotency-Key` replay covers POSTs only and is not needed here).
 */
export const deletionRoutes = createRouter().openapi(remove, async (c) => {
  const tenant = await deleteTenant(c.env, c.req.valid("param").id, { ...callOf(c), log: c.get("log") });
  c.header("Cache-Control", "no-store");
  return c.json(tenant, 202);
});
