import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { errorFields } from "../log";
import { createRouter } from "../openapi/router";
import { type HealthCheck, runChecks } from "./checks";

const CheckResultSchema = z.object({
  ok: z.boolean(),
  latency_ms: z.number(),
  error: z.string().optional(),
  warning: z.string().optional(),
});

const ReadySchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    checks: z.record(z.string(), CheckResultSchema),
  })
  .openapi("Readiness");

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "getHealthz",
  summary: "Liveness: the isolate can serve",
  tags: ["operations"],
  security: [],
  responses: {
    200: {
      description: "alive",
      content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
    },
  },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  operationId: "getReadyz",
  summary: "Readiness: D1, migrations and module checks",
  tags: ["operations"],
  security: [],
  responses: {
    200: { description: "every check passed", content: { "application/json": { schema: ReadySchema } } },
    503: { description: "a check failed", content: { "application/json": { schema: ReadySchema } } },
  },
});

/** `/healthz` and `/readyz` over the kernel's and the modules' checks. */
export function healthRoutes(checks: readonly HealthCheck[]): OpenAPIHono<AppEnv> {
  return createRouter()
    .openapi(healthz, (c) => c.json({ status: "ok" as const }, 200))
    .openapi(readyz, async (c) => {
      const result = await runChecks(
        checks,
        c.env,
        (name, error) => c.get("log").warn("readiness check failed", { check: name, ...errorFields(error) }),
        c.get("sleeper"),
      );
      c.header("Cache-Control", "no-store");
      if (result.ok) return c.json({ status: "ok" as const, checks: result.checks }, 200);
      return c.json({ status: "unavailable" as const, checks: result.checks }, 503);
    });
}
