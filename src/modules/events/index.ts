import { createRoute, z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../generated/permissions";
import { requirePermission, tenantOf } from "../../kernel/auth/guards";
import { AppError } from "../../kernel/errors";
import { purgeProcessedEvents } from "../../kernel/events/queue";
import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter, problem } from "../../kernel/openapi/router";
import { IdParam, jsonResponse, listOf, PageQuery } from "../identity/schemas";

const DeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    message_id: z.string(),
    event_type: z.string().nullable(),
    reason: z.string(),
    event: z.unknown(),
    attempts: z.number().int(),
    received_at: z.string(),
    replayed_at: z.string().nullable(),
  })
  .openapi("DeadLetter");

interface Row {
  id: string;
  queue: string;
  message_id: string;
  event_type: string | null;
  body: string;
  attempts: number;
  received_at: string;
  replayed_at: string | null;
}

const view = (r: Row) => {
  const stored = JSON.parse(r.body) as { reason?: string; body?: unknown };
  const { body: _body, ...rest } = r;
  return { ...rest, reason: stored.reason ?? "unknown", event: stored.body ?? null };
};

const list = createRoute({
  method: "get",
  path: "/dead-letters",
  operationId: "listDeadLetters",
  summary: "Events that exhausted their retries, newest first",
  tags: ["events"],
  security: [{ bearer: [] }],
  middleware: [requirePermission(PERMISSIONS.admin.events.read)] as const,
  request: { query: PageQuery },
  responses: { 200: jsonResponse("a page of dead letters", listOf(DeadLetterSchema)) },
});

const replay = createRoute({
  method: "post",
  path: "/dead-letters/{id}/replay",
  operationId: "replayDeadLetter",
  summary: "Send a dead letter's event to the events queue again",
  tags: ["events"],
  security: [{ bearer: [] }],
  middleware: [requirePermission(PERMISSIONS.admin.events.write)] as const,
  request: { params: IdParam },
  responses: { 202: { description: "re-sent" }, 404: problem("no such dead letter in this tenant") },
});

const routes = createRouter()
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    // Cursor = the last id seen; ids are time-ordered, newest first.
    const { results } = await c.env.DB.prepare(
      `select id, queue, message_id, event_type, body, attempts, received_at, replayed_at from dead_letters
        where tenant_id = ? and (? is null or id < ?) order by id desc limit ?`,
    )
      .bind(tenantOf(c).id, cursor ?? null, cursor ?? null, limit + 1)
      .all<Row>();
    const items = results.slice(0, limit).map(view);
    return c.json({ items, next_cursor: results.length > limit ? (items.at(-1)?.id ?? null) : null }, 200);
  })
  .openapi(replay, async (c) => {
    const row = await c.env.DB.prepare("select body from dead_letters where id = ? and tenant_id = ?")
      .bind(c.req.valid("param").id, tenantOf(c).id)
      .first<{ body: string }>();
    if (!row) throw new AppError("not_found", { detail: "no such dead letter" });
    const stored = JSON.parse(row.body) as { body?: unknown };
    await c.env.EVENTS.send(stored.body ?? null, { contentType: "json" });
    await c.env.DB.prepare("update dead_letters set replayed_at = ? where id = ?")
      .bind(new Date().toISOString(), c.req.valid("param").id)
      .run();
    return c.body(null, 202);
  });

/**
 * The `events` module: the dead-letter admin API over the kernel's queue
 * consumer, and the hourly purge of its idempotency ledger.
 */
export const events = () =>
  ({
    name: "events",
    version: "1.0.0",
    description: "Inspect and replay events that exhausted their retries.",
    base_path: "/admin",
    permissions: ["admin.events.read", "admin.events.write"],
    routes,
    jobs: [
      {
        name: "purge-processed",
        cron: "0 * * * *",
        async run({ env, log }) {
          const purged = await purgeProcessedEvents(env);
          if (purged > 0) log.info("processed event ids purged", { purged });
        },
      },
    ],
  }) satisfies ModuleDef;
