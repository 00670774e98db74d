// The isolation walk's smallest bodies (isolation-requests.ts) as a module's routes validate them:
// a body the route refuses is a 400, which the walk reads as its own request failing on B's resource.
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import type { Schema, Schemas } from "./fuzz-schema";
import { smallest } from "./isolation-requests";

/** `body`'s JSON schema as the served document holds it (an OpenAPI 3.1 document's request body). */
function asDocumented(body: z.ZodObject): { schema: Schema; schemas: Schemas } {
  const app = new OpenAPIHono();
  const route = createRoute({
    method: "post",
    path: "/x",
    request: { body: { content: { "application/json": { schema: body } } } },
    responses: { 204: { description: "done" } },
  });
  app.openapi(route, (c) => c.body(null, 204));
  const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
  const requestBody = doc.paths?.["/x"]?.post?.requestBody as
    | { content?: Record<string, { schema?: Schema }> }
    | undefined;
  const schema = requestBody?.content?.["application/json"]?.schema;
  return { schema: schema ?? {}, schemas: (doc.components?.schemas ?? {}) as Schemas };
}

describe("the isolation walk's smallest body", () => {
  it("holds an RFC 3339 time where the route takes z.iso.datetime(), and a date for z.iso.date()", () => {
    const body = z.object({ due_at: z.iso.datetime(), on: z.iso.date(), note: z.string().optional() });
    const { schema, schemas } = asDocumented(body);
    expect(schema.properties?.due_at?.format).toBe("date-time");
    const value = smallest(schema, schemas);
    expect(body.safeParse(value).success, JSON.stringify(value)).toBe(true);
  });
});
