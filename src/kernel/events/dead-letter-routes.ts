import { z } from "@hono/zod-openapi";
import type { TenantLookup } from "../auth/types";
import { refuseUnknownTenantFilter } from "../auth/unknown-tenant";
import type { ModuleDef } from "../modules/types";
import { DeadLetterPageQuery, IdParam, jsonResponse, listOf, page } from "../openapi/blocks";
import { operations } from "../openapi/operation";
import { createRouter, problem } from "../openapi/router";
import { CLAIMED_ELSEWHERE, ReplayClaimLapsesAt } from "../queues/replay-claim";
import { appliedLetters } from "./dead-letter-applied";
import { dismissDeadLetter } from "./dead-letter-dismissal";
import { replayDeadLetter } from "./dead-letter-replay";
import { deadLetterStore } from "./dead-letters";

/** A dead letter as the tenant's admin reads it (the events module's `/admin/dead-letters`). */
export const DeadLetterSchema = z
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
    replay_claim_lapses_at: ReplayClaimLapsesAt,
  })
  .openapi("DeadLetter");

/** The platform operator's: the same, with whose it is. */
const PlatformDeadLetterSchema = DeadLetterSchema.extend({
  tenant_id: z.string().nullable(),
  already_applied: z.boolean().openapi({
    description:
      "every subscription that wants the event has applied it (a catch-up replay did, say): replaying the letter would change nothing",
  }),
}).openapi("PlatformDeadLetter");

const op = operations(["platform"]);

const list = op.get("/platform/events/dead-letters", {
  operationId: "listPlatformDeadLetters",
  summary: "Every tenant's events that exhausted their retries, newest first, with whose each is",
  access: "platform",
  request: {
    query: DeadLetterPageQuery,
  },
  responses: {
    200: jsonResponse("a page of dead letters", listOf(PlatformDeadLetterSchema)),
    404: problem("`tenant_id` names no tenant (a slug is told its tenant's id)"),
  },
});

const replay = op.post("/platform/events/dead-letters/{id}/replay", {
  operationId: "replayPlatformDeadLetter",
  summary: "Send any tenant's dead letter's event to the events queue again",
  access: "platform",
  request: { params: IdParam },
  responses: {
    202: { description: "re-sent (recorded in the tenant's audit log: `events.dead_letter.replayed`)" },
    404: problem("no such dead letter"),
    409: problem(CLAIMED_ELSEWHERE),
  },
});

const dismiss = op.delete("/platform/events/dead-letters/{id}", {
  operationId: "dismissPlatformDeadLetter",
  summary:
    "Dismiss any tenant's dead letter that will never be replayed (its module is gone, its event already applied): it is deleted and no longer waits",
  access: "platform",
  request: { params: IdParam },
  responses: {
    204: {
      description:
        "dismissed (logged: `dead letter dismissed`; recorded in the tenant's audit log: `events.dead_letter.dismissed`)",
    },
    404: problem("no such dead letter"),
  },
});

/**
 * The platform operator's view of the events dead letters, mounted under `/api/v1`: the
 * hourly report names the tenants whose letters wait, and these list and replay them with
 * the root key, where the tenant routes (`/admin/dead-letters`) need each tenant's own key;
 * and dismiss those nobody will replay.
 */
export const platformDeadLetterRoutes = (platform: {
  modules: readonly ModuleDef[];
  /** Resolves `tenant_id`, so a filter naming no tenant is refused, not answered with an empty page. */
  tenants?: TenantLookup;
}) => {
  const applied = appliedLetters(platform.modules);
  return createRouter()
    .openapi(list, async (c) => {
      const { limit, cursor, tenant_id, pending } = c.req.valid("query");
      await refuseUnknownTenantFilter(platform.tenants, tenant_id, c);
      const rows = await deadLetterStore(c.env.DB).listAll(limit + 1, {
        cursor,
        tenantId: tenant_id,
        pending: pending === "true",
      });
      const done = await applied(c.env, rows.slice(0, limit));
      return c.json(
        page(
          rows.map((r) => ({ ...r, already_applied: done.has(r.id) })),
          limit,
          (d) => d.id,
        ),
        200,
      );
    })
    .openapi(replay, async (c) => {
      await replayDeadLetter(c, c.req.valid("param").id);
      return c.body(null, 202);
    })
    .openapi(dismiss, async (c) => {
      await dismissDeadLetter(c, c.req.valid("param").id);
      return c.body(null, 204);
    });
};
