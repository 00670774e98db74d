import { PERMISSIONS } from "../../generated/permissions";
import { tenantOf } from "../../kernel/auth/guards";
import { dismissDeadLetter } from "../../kernel/events/dead-letter-dismissal";
import { replayDeadLetter } from "../../kernel/events/dead-letter-replay";
import { DeadLetterSchema } from "../../kernel/events/dead-letter-routes";
import { deadLetterStore } from "../../kernel/events/dead-letters";
import { IdPageQuery, IdParam, jsonResponse, listOf, page } from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { CLAIMED_ELSEWHERE } from "../../kernel/queues/replay-claim";

const op = operations(["events"]);

const list = op.get("/dead-letters", {
  operationId: "listDeadLetters",
  summary: "Events that exhausted their retries, or could never be handled, newest first",
  access: PERMISSIONS.admin.events.read,
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of dead letters", listOf(DeadLetterSchema)) },
});

const replay = op.post("/dead-letters/{id}/replay", {
  operationId: "replayDeadLetter",
  summary: "Send a dead letter's event to the events queue again",
  access: PERMISSIONS.admin.events.write,
  request: { params: IdParam },
  responses: {
    202: { description: "re-sent (recorded in the audit log: `events.dead_letter.replayed`)" },
    404: problem("no such dead letter in this tenant"),
    409: problem(CLAIMED_ELSEWHERE),
  },
});

const dismiss = op.delete("/dead-letters/{id}", {
  operationId: "dismissDeadLetter",
  summary: "Dismiss a dead letter that will never be replayed: it is deleted and no longer waits",
  access: PERMISSIONS.admin.events.write,
  request: { params: IdParam },
  responses: {
    204: { description: "dismissed (recorded in the audit log: `events.dead_letter.dismissed`)" },
    404: problem("no such dead letter in this tenant"),
  },
});

/** `/api/v1/admin/dead-letters`: a tenant's dead letters, their replay and dismissal. */
export const deadLetterRoutes = createRouter()
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    // Cursor = the last id seen; ids are time-ordered, newest first.
    const rows = await deadLetterStore(c.env.DB).list(tenantOf(c).id, limit + 1, cursor);
    return c.json(
      page(rows, limit, (d) => d.id),
      200,
    );
  })
  .openapi(replay, async (c) => {
    await replayDeadLetter(c, c.req.valid("param").id, tenantOf(c).id);
    return c.body(null, 202);
  })
  .openapi(dismiss, async (c) => {
    await dismissDeadLetter(c, c.req.valid("param").id, tenantOf(c).id);
    return c.body(null, 204);
  });
