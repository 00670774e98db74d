import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../src/kernel/errors";
import type { ModuleDef } from "../src/kernel/modules/types";
import { createRouter, problem } from "../src/kernel/openapi/router";

const NoteSchema = z.object({
  title: z.string().min(1).max(20),
  body: z.string().max(100_000),
  tags: z.array(z.string()).max(3).optional(),
});

const createNote = createRoute({
  method: "post",
  path: "/notes",
  operationId: "createNote",
  summary: "Create a note",
  request: {
    body: { required: true, content: { "application/json": { schema: NoteSchema } } },
    query: z.object({ dry_run: z.enum(["true", "false"]).optional() }),
  },
  responses: {
    201: { description: "created", content: { "application/json": { schema: NoteSchema } } },
    400: problem("invalid"),
  },
});

const notesRoutes = createRouter()
  .openapi(createNote, (c) => c.json(c.req.valid("json"), 201))
  .get("/boom", () => {
    throw new Error("secret database password in this message");
  })
  .get("/teapot", () => {
    throw new AppError("conflict", { detail: "the note is locked" });
  });

/** A JSON-body module for exercising the kernel request path. */
export const notesModule = (overrides: Partial<ModuleDef> = {}): ModuleDef => ({
  name: "notes",
  version: "1.0.0",
  routes: notesRoutes,
  ...overrides,
});

/** A module with one GET route answering its own name, for mount-order tests. */
export function probeModule(name: string, version: string, depends_on?: Record<string, string>, base_path?: string) {
  const routes = createRouter().get("/probe", (c) => c.json({ served_by: name }));
  return { name, version, depends_on, base_path, routes } satisfies ModuleDef;
}
