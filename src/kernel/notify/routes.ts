import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { tenantOf } from "../auth/guards";
import type { TenantLookup } from "../auth/types";
import { refuseUnknownTenantFilter } from "../auth/unknown-tenant";
import { devMailbox } from "../db/schema";
import { AppError } from "../errors";
import { DeadLetterPageQuery, IdParam, jsonBody, jsonResponse, listOf, page } from "../openapi/blocks";
import { operations } from "../openapi/operation";
import { createRouter, problem } from "../openapi/router";
import { CLAIMED_ELSEWHERE, ReplayClaimLapsesAt } from "../queues/replay-claim";
import { normaliseEmail } from "../text/email-address";
import { dismissMailDeadLetter } from "./dead-letter-dismissal";
import { mailDeadLetterStore } from "./dead-letters";
import { mailboxServes } from "./mailbox";
import { replayMailDeadLetter, replayPendingMail } from "./replay";

const MailSchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  /** The plain-text part. */
  body: z.string(),
  html: z.string().nullable(),
  created_at: z.string(),
});

const mailbox = createRoute({
  method: "get",
  path: "/dev/mailbox",
  operationId: "devMailbox",
  summary: "Development only: mail the tenant's users were sent, newest first",
  description:
    "Filled by the mail queue's consumer, a moment after the request that sent the mail (docs/notifications.md); `created_at` is when the request queued it.",
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

const MailDeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    message_id: z.string(),
    mail_id: z.string().nullable(),
    tenant_id: z.string().nullable(),
    kind: z.string().nullable(),
    reason: z.string(),
    attempts: z.number().int(),
    received_at: z.string(),
    replayed_at: z.string().nullable(),
    replay_claim_lapses_at: ReplayClaimLapsesAt,
  })
  .openapi("MailDeadLetter");

const op = operations(["platform"]);
const UNKNOWN_TENANT = "`tenant_id` names no tenant (a slug is told its tenant's id)";

const list = op.get("/platform/mail/dead-letters", {
  operationId: "listMailDeadLetters",
  summary:
    "Mail the consumer gave up on, or a request could not queue (queue `not-queued`), newest first (the content stays sealed and is not shown)",
  access: "platform",
  request: {
    query: DeadLetterPageQuery,
  },
  responses: {
    200: jsonResponse("a page of mail dead letters", listOf(MailDeadLetterSchema)),
    404: problem(UNKNOWN_TENANT),
  },
});

const replayOne = op.post("/platform/mail/dead-letters/{id}/replay", {
  operationId: "replayMailDeadLetter",
  summary: "Put a mail dead letter back on the mail queue; it keeps its mail id (the provider's idempotency key)",
  access: "platform",
  request: { params: IdParam },
  responses: {
    202: { description: "re-queued (recorded in the tenant's audit log: `mail.dead_letter.replayed`)" },
    404: problem("no such mail dead letter"),
    409: problem(CLAIMED_ELSEWHERE),
  },
});

const dismiss = op.delete("/platform/mail/dead-letters/{id}", {
  operationId: "dismissMailDeadLetter",
  summary:
    "Dismiss a mail dead letter that will never be sent (an address that never accepts it, a token long expired): it is deleted and no longer waits",
  access: "platform",
  request: { params: IdParam },
  responses: {
    204: {
      description:
        "dismissed (logged: `mail dead letter dismissed`; recorded in the tenant's audit log: `mail.dead_letter.dismissed`)",
    },
    404: problem("no such mail dead letter"),
  },
});

const replayPending = op.post("/platform/mail/replay-dead-letters", {
  operationId: "replayMailDeadLetters",
  summary: "Put up to `limit` mail dead letters not yet replayed back on the mail queue (after an outage is fixed)",
  access: "platform",
  request: {
    body: jsonBody(
      z.object({
        limit: z.number().int().min(1).max(100).default(100),
        tenant_id: z.string().min(1).max(64).optional(),
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      "how many were re-queued; call again while `more` is true",
      z.object({ replayed: z.number().int(), more: z.boolean() }).openapi("MailReplay"),
    ),
    404: problem(UNKNOWN_TENANT),
  },
});

/**
 * The kernel's mail operations, mounted under `/api/v1`: the development
 * mailbox (development on a loopback host, and tests) and the platform
 * operator's view of mail dead letters, with their replay and dismissal.
 * `tenants` resolves a `tenant_id` filter, so one naming no tenant is refused.
 */
export const mailRoutes = (platform: { tenants?: TenantLookup }) =>
  createRouter()
    .openapi(mailbox, async (c) => {
      if (!mailboxServes(c.get("config").environment, new URL(c.req.url))) {
        throw new AppError("not_found", { detail: "no such route" });
      }
      const tenant = tenantOf(c);
      const sent = c.req.valid("query").to;
      const to = sent === undefined ? undefined : normaliseEmail(sent);
      const t = devMailbox;
      const rows = await drizzle(c.env.DB)
        .select()
        .from(t)
        .where(and(eq(t.tenantId, tenant.id), to ? eq(t.to, to) : undefined))
        .orderBy(desc(t.createdAt), desc(t.id))
        .limit(100);
      // The mail holds live tokens (verification, reset, invitation links): no cache keeps a copy.
      c.header("Cache-Control", "no-store");
      return c.json(
        { items: rows.map(({ tenantId: _, createdAt, ...mail }) => ({ ...mail, created_at: createdAt })) },
        200,
      );
    })
    .openapi(list, async (c) => {
      const { limit, cursor, tenant_id, pending } = c.req.valid("query");
      await refuseUnknownTenantFilter(platform.tenants, tenant_id, c);
      const rows = await mailDeadLetterStore(c.env.DB).list(limit + 1, {
        cursor,
        tenantId: tenant_id,
        pending: pending === "true",
      });
      return c.json(
        page(rows, limit, (d) => d.id),
        200,
      );
    })
    .openapi(replayOne, async (c) => {
      await replayMailDeadLetter(c, c.req.valid("param").id);
      return c.body(null, 202);
    })
    .openapi(dismiss, async (c) => {
      await dismissMailDeadLetter(c, c.req.valid("param").id);
      return c.body(null, 204);
    })
    .openapi(replayPending, async (c) => {
      const { limit, tenant_id } = c.req.valid("json");
      await refuseUnknownTenantFilter(platform.tenants, tenant_id, c);
      return c.json(await replayPendingMail(c, limit, tenant_id), 200);
    });
