import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { tenantOf } from "../../../kernel/auth/guards";
import { AppError } from "../../../kernel/errors";
import { jsonResponse } from "../../../kernel/openapi/blocks";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { mailboxServes } from "../notifier";
import { devMailbox } from "../read-model";

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
  responses: {
    200: jsonResponse("messages", z.object({ items: z.array(MailSchema) })),
    404: problem("`not_found`: outside development (on a loopback host) and tests, the mailbox does not exist"),
  },
});

/** `/api/v1/dev/mailbox`: exists only in development on a loopback host, and in tests. */
export const devRoutes = createRouter().openapi(mailbox, async (c) => {
  if (!mailboxServes(c.get("config").environment, new URL(c.req.url))) {
    throw new AppError("not_found", { detail: "no such route" });
  }
  const tenant = tenantOf(c);
  const to = c.req.valid("query").to?.trim().toLowerCase();
  const t = devMailbox;
  const rows = await drizzle(c.env.DB)
    .select()
    .from(t)
    .where(and(eq(t.tenantId, tenant.id), to ? eq(t.to, to) : undefined))
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(100);
  return c.json(
    { items: rows.map(({ tenantId: _, createdAt, ...mail }) => ({ ...mail, created_at: createdAt })) },
    200,
  );
});
