import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../generated/permissions";
import { tenantOf } from "../../kernel/auth/guards";
import { storedJson } from "../../kernel/db/stored-json";
import { moduleError } from "../../kernel/errors";
import { AuditFactsSchema } from "../../kernel/events/envelope";
import { jsonResponse, limitParam, listOf, PositionPageQuery } from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, ProblemSchema } from "../../kernel/openapi/router";
import { readModels } from "../../kernel/read-models";
import { AUDIT_VERIFY_MAX, AuditEntrySchema, AuditLogRpc, auditLog } from "./contract";
import { auditErrors } from "./errors";
import { listEntries } from "./read-model";
import { verifyWhole, type WalkCutShort } from "./verify-whole";

const op = operations(["audit"]);

const EXPORT_PAGE = 500;

const EntrySchema = AuditEntrySchema.openapi("AuditEntry");
const VerificationSchema = AuditLogRpc.verify.reply.openapi("AuditVerification");

const list = op.get("/audit", {
  operationId: "listAuditEntries",
  summary: "Audit entries, newest first; filters are inclusive",
  access: PERMISSIONS.admin.audit.read,
  request: {
    query: PositionPageQuery.extend({
      actor: z.string().min(1).max(200).optional(),
      action: z.string().min(1).max(200).optional(),
      since: z.iso.datetime().optional(),
      until: z.iso.datetime().optional(),
    }),
  },
  responses: { 200: jsonResponse("a page of entries", listOf(EntrySchema)) },
});

const exportRoute = op.get("/audit/export", {
  operationId: "exportAuditLog",
  summary: "The whole chain as NDJSON, oldest first, ending with its signed checkpoint",
  access: PERMISSIONS.admin.audit.read,
  responses: {
    200: {
      description:
        "one JSON entry per line, then the checkpoint line (alone in an empty log's export: seq 0, the genesis hash)",
      content: { "application/x-ndjson": { schema: z.string() } },
    },
  },
});

/**
 * `?from_seq=`: the first seq a verification step recomputes, a plain decimal integer from 1 (as
 * limitParam reads a limit: `1e3`, `0x10` or `1.0` are a 400, not a seq). Past the end is valid.
 */
const FROM_SEQ_ERROR = "must be a whole number of 1 or more, in plain decimal digits";
const FromSeqParam = z
  .preprocess(
    (raw) => (typeof raw === "string" && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : raw),
    z.number({ error: FROM_SEQ_ERROR }).int({ error: FROM_SEQ_ERROR }).min(1, { error: FROM_SEQ_ERROR }),
  )
  .optional()
  .openapi({ type: "integer", minimum: 1 });

/** The 422 of a whole walk cut short: the problem, and where to go on from. */
const TooLongSchema = ProblemSchema.extend({
  entries_verified: z.number().int().openapi({ description: "entries verified from seq 1, all ok (0: none)" }),
  next_from_seq: z.number().int().openapi({ description: "the from_seq to verify the rest from, in steps" }),
}).openapi("AuditVerifyTooLong");

const verify = op.get("/audit/verify", {
  operationId: "verifyAuditLog",
  summary: "Recompute the chain in bounded steps and check the checkpoint signatures",
  description: `Without parameters, the whole chain: recomputed in steps of ${AUDIT_VERIFY_MAX} entries, one Durable Object request (a subrequest) each, so ok says whether every entry and checkpoint verifies. A log too long for the subrequests one request may make (50 on Workers Free) is answered 422 audit_verify_too_long, with how far the walk got, all ok (entries_verified), and next_from_seq to go on from in steps. With from_seq or limit, one step: entries from_seq (default 1) to from_seq + limit - 1 (at most ${AUDIT_VERIFY_MAX}, the default) against the stored hash of entry from_seq - 1, and the checkpoints in that range; pass next_from_seq back as from_seq until it is null.`,
  access: PERMISSIONS.admin.audit.read,
  request: {
    query: z.object({ from_seq: FromSeqParam, limit: limitParam(AUDIT_VERIFY_MAX, AUDIT_VERIFY_MAX) }),
  },
  responses: {
    200: jsonResponse("the verification of the whole chain, or of one step", VerificationSchema),
    422: {
      description:
        "`audit_verify_too_long`: the whole chain was asked for, and the request ran out of subrequests before the walk reached the end; entries 1 to `entries_verified` verified, all ok, and `next_from_seq` is where to go on in steps (`?from_seq=`, or `plinth audit check --from-seq`). A fault found before is answered 200 with `ok: false`",
      content: { "application/problem+json": { schema: TooLongSchema } },
    },
  },
});

/** The answer to a whole walk the request's subrequests could not finish: where to go on from, in steps. */
function tooLong(cut: WalkCutShort) {
  const done =
    cut.verified === 0 ? "no entry was verified" : `entries from seq 1 through ${cut.verified} verified, all ok so far`;
  return moduleError(auditErrors, "audit_verify_too_long", {
    detail: `${done}, but this request ran out of subrequests before reaching the end of the chain (the platform allows a request only so many, and each step of ${AUDIT_VERIFY_MAX} entries is one). Verify the rest in steps, each its own request, from seq ${cut.next_from_seq}: GET /api/v1/admin/audit/verify?from_seq=${cut.next_from_seq}, then each answer's next_from_seq until it is null, or plinth audit check --from-seq ${cut.next_from_seq}`,
    extensions: { entries_verified: cut.verified, next_from_seq: cut.next_from_seq },
    cause: cut.cause,
  });
}

/** `/api/v1/admin/audit`, `/export` and `/verify`. */
export const auditRoutes = createRouter()
  .openapi(list, async (c) => {
    const { limit, cursor, actor, action, since, until } = c.req.valid("query");
    // Stored times are ISO strings from toISOString(); normalising the bounds the same way keeps string order = time order.
    const rows = await listEntries(readModels(c.env), {
      tenantId: tenantOf(c).id,
      before: cursor ? Number(cursor) : undefined,
      actorId: actor,
      action,
      since: since ? new Date(since).toISOString() : undefined,
      until: until ? new Date(until).toISOString() : undefined,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit).map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: { kind: r.actorKind, id: r.actorId },
      action: r.action,
      target: r.target,
      request_id: r.requestId,
      ip_hash: r.ipHash,
      ...(r.detail === null
        ? {}
        : { detail: AuditFactsSchema.parse(storedJson(r.detail, `audit entry seq ${r.seq} detail`)) }),
      prev_hash: r.prevHash,
      hash: r.hash,
    }));
    const next = rows.length > limit ? items.at(-1)?.seq : undefined;
    return c.json({ items, next_cursor: next === undefined ? null : String(next) }, 200);
  })
  .openapi(exportRoute, async (c) => {
    const tenantId = tenantOf(c).id;
    const log = auditLog(c.env, tenantId);
    // Sign what is there now, so the export ends with a checkpoint covering every line: a truncated file is then
    // detectable. An empty log's is its head at seq 0, so its export proves it empty rather than being an empty body.
    const checkpoint = await log.exportCheckpoint({ tenant_id: tenantId });
    const last = checkpoint?.seq ?? 0;
    const encoder = new TextEncoder();
    let from = 1;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (from > last) {
          if (checkpoint)
            controller.enqueue(encoder.encode(`${JSON.stringify({ checkpoint, tenant_id: tenantId })}\n`));
          controller.close();
          return;
        }
        const page = await log.entries({ fromSeq: from, limit: Math.min(EXPORT_PAGE, last - from + 1) });
        if (page.length === 0) {
          from = last + 1;
          return;
        }
        controller.enqueue(encoder.encode(page.map((e) => `${JSON.stringify(e)}\n`).join("")));
        from = (page.at(-1)?.seq ?? last) + 1;
      },
    });
    const res = new Response(stream, { headers: { "content-type": "application/x-ndjson; charset=utf-8" } });
    // @hono/zod-openapi reads "application/x-ndjson" as a JSON media type and so types no
    // response for it; the route's declared content is what the OpenAPI document shows.
    return res as never;
  })
  .openapi(verify, async (c) => {
    const { from_seq, limit } = c.req.valid("query");
    const log = auditLog(c.env, tenantOf(c).id);
    // Asked for neither: the whole chain (limit's default stands for a step that names only from_seq).
    const whole = from_seq === undefined && c.req.query("limit") === undefined;
    const result = whole
      ? await verifyWhole((fromSeq) => log.verify({ fromSeq }))
      : await log.verify({ fromSeq: from_seq ?? 1, limit });
    if ("cut_short" in result) throw tooLong(result);
    return c.json(result, 200);
  });
