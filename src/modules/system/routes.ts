import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../kernel/openapi/router";

const SystemInfoSchema = z
  .object({
    version: z.string().openapi({ example: "0.1.0" }),
    commit: z.string().openapi({ example: "3f2a9c1" }),
    modules: z.array(z.object({ name: z.string(), version: z.string() })),
  })
  .openapi("SystemInfo");

const getInfo = createRoute({
  method: "get",
  path: "/info",
  operationId: "getSystemInfo",
  summary: "Platform version, build commit and registered modules",
  tags: ["system"],
  security: [],
  responses: {
    200: { description: "what is deployed", content: { "application/json": { schema: SystemInfoSchema } } },
  },
});

/** `GET /api/v1/system/info`. */
export const systemRoutes = createRouter().openapi(getInfo, (c) => {
  const { version, commit, modules } = c.get("platform");
  return c.json({ version, commit, modules }, 200);
});
