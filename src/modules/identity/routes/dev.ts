import { createRoute, z } from "@hono/zod-openapi";
import { tenantOf } from "../../../kernel/auth/guards";
import { AppError } from "../../../kernel/errors";
import { createRouter } from "../../../kernel/openapi/router";
import { mailboxServes } from "../notifier";
import { jsonResponse } from "../schemas";

const MailSchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  body: z.string(),
  created_at: z.string(),
});

const mailbox = createRoute({
  method: "get",
  path: "/dev/mailbox",
  operationId: "devMailbox",
  summary: "Development only: mail the tenant's users were sent, newest first",
  tags: ["development"],
  security: [],
  request: {
    headers: z.object({ "x-tenant": z.string().optional() }),
    query: z.object({ to: z.string().max(320).optional() }),
  },
  responses: { 200: jsonResponse("messages", z.object({ items: z.array(MailSchema) })) },
});

/** `/api/v1/dev/mailbox`: exists only in development on a loopback host, and in tests. */
export const devRoutes = createRouter().openapi(mailbox, async (c) => {
  if (!mailboxServes(c.var.config.environment, new URL(c.req.url))) {
    throw new AppError("not_found", { detail: "no such route" });
  }
  const tenant = tenantOf(c);
  const to = c.req.valid("query").to?.trim().toLowerCase();
  const { results } = await c.env.DB.prepare(
    `select id, to_address as "to", subject, body, created_at from dev_mailbox
      where tenant_id = ?1 and (?2 is null or to_address = ?2) order by created_at desc, id desc limit 100`,
  )
    .bind(tenant.id, to ?? null)
    .all<z.infer<typeof MailSchema>>();
  return c.json({ items: results }, 200);
});
