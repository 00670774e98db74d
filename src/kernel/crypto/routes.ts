import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TenantLookup } from "../auth/types";
import { unknownTenantId } from "../auth/unknown-tenant";
import { isoNow } from "../clock";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { background } from "../http/background";
import { requestRuntime } from "../modules/request-runtime";
import type { ModuleDef } from "../modules/types";
import { mailLettersSealed } from "../notify/sealed-letters";
import { jsonBody, jsonResponse, limitParam } from "../openapi/blocks";
import { operations } from "../openapi/operation";
import { createRouter, problem } from "../openapi/router";
import { parseMasterKeys } from "./envelope";
import { addCounts, withVersions } from "./key-versions";
import { resealedEvent } from "./resealed-event";
import { reencryptTenant, sealedFieldsOf, tenantVersions } from "./tenant-pass";
import { newId } from "./tokens";

const TenantId = z.string().min(1).max(64);
const After = TenantId.openapi({ description: "the previous call's `next`, passed back as it is" });
const Next = z
  .string()
  .nullable()
  .openapi({ description: "the `after` of the next call; null when every tenant was seen" });
const Failure = z
  .string()
  .nullable()
  .openapi({ description: "why this tenant's pass failed (a removed key version, shredded key material), or null" });
const Counts = z.record(z.string(), z.record(z.string(), z.number().int().min(0))).openapi({
  description: "ciphertexts by field kind, then by key version",
  example: { "webhooks.secret": { "1": 0, "2": 3 } },
});

const ReencryptRequestSchema = z
  .object({
    tenant_id: TenantId.optional().openapi({
      description: "only this tenant (else every tenant, suspended ones too, a page per call)",
    }),
    after: After.optional(),
    limit: z.number().int().min(1).max(100).default(20).openapi({ description: "tenants per call" }),
  })
  .openapi("ReencryptRequest");

const ReencryptProgressSchema = z
  .object({
    current_version: z
      .number()
      .int()
      .openapi({ description: "the ENCRYPTION_KEYS version values were re-sealed under" }),
    tenants: z.array(
      z.object({
        tenant_id: z.string(),
        resealed: z.number().int().min(0).openapi({ description: "values re-sealed under the current version" }),
        raced: z.number().int().min(0).openapi({
          description: "stale values that changed while being re-sealed, kept as their writer holds them; run again",
        }),
        error: Failure,
      }),
    ),
    next: Next,
  })
  .openapi("ReencryptProgress");

const VersionsQuerySchema = z.object({
  tenant_id: TenantId.optional().openapi({
    description: "only this tenant (else every tenant, suspended ones too, a page per call)",
  }),
  after: After.optional(),
  limit: limitParam(50).openapi({ description: "tenants per call" }),
});

const KeyVersionsSchema = z
  .object({
    current_version: z.number().int().nullable().openapi({ description: "the version new values are sealed under" }),
    configured_versions: z
      .array(z.number().int())
      .openapi({ description: "the versions ENCRYPTION_KEYS holds, newest first" }),
    counts: Counts.openapi({ description: "the sum over this call's tenants" }),
    tenants: z.array(z.object({ tenant_id: z.string(), counts: Counts, error: Failure })),
    next: Next,
  })
  .openapi("KeyVersions");

const op = operations(["platform"]);

const reencrypt = op.post("/platform/crypto/reencrypt", {
  operationId: "reencryptSealedValues",
  summary:
    "Re-seal every value sealed under an older ENCRYPTION_KEYS version under the current one, a page of tenants per call",
  access: "platform",
  request: { body: jsonBody(ReencryptRequestSchema) },
  responses: {
    200: jsonResponse("what each tenant's pass did; `next` is the `after` of the next call", ReencryptProgressSchema),
    404: problem("no such tenant (`tenant_id`)"),
  },
});

const versions = op.get("/platform/crypto/versions", {
  operationId: "getKeyVersions",
  summary: "How many stored ciphertexts each ENCRYPTION_KEYS version still seals, by field kind",
  access: "platform",
  request: { query: VersionsQuerySchema },
  responses: {
    200: jsonResponse("the counts; a version at 0 everywhere can be removed from ENCRYPTION_KEYS", KeyVersionsSchema),
    404: problem("no such tenant (`tenant_id`)"),
  },
});

/** Whether `id` is a tenant's, live, deleting or erased. */
async function knownTenant(lookup: TenantLookup, id: string, c: Context<AppEnv>): Promise<boolean> {
  if (await lookup.byId(id, c)) return true;
  return (await lookup.gone(c.env, [id])).has(id);
}

/**
 * The tenants a call covers: the one named, or a page of every tenant after `after`. An `after`
 * naming no tenant is refused (400 at `where`), as a rebuild's is: walked on from wherever it
 * sorted, a mistyped cursor answered no tenants, `next` null, and `plinth crypto reencrypt` said
 * "done" having re-sealed nothing. Deleting and erased tenants still count, so a run can go on past one.
 */
async function tenantsOf(
  c: Context<AppEnv>,
  lookup: TenantLookup | undefined,
  query: { tenant_id?: string; after?: string; limit: number },
  where: "body.after" | "query.after",
): Promise<{ ids: string[]; next: string | null }> {
  if (query.tenant_id !== undefined) {
    const tenant = lookup ? await lookup.byId(query.tenant_id, c) : null;
    if (!tenant)
      throw await unknownTenantId(
        query.tenant_id,
        async (slug) => (lookup ? lookup.bySlug(slug, c) : null),
        "tenant_id",
      );
    return { ids: [tenant.id], next: null };
  }
  if (!lookup) return { ids: [], next: null };
  // An erased tenant (row removed, tombstone kept) is a cursor a run may hold: its erasure can
  // finish between two pages of the same `reencrypt`, which must go on past it.
  if (query.after !== undefined && !(await knownTenant(lookup, query.after, c))) {
    const message = `no tenant ${query.after}: the cursor must be a \`next\` an answer named`;
    throw new AppError("validation_failed", { detail: message, errors: [{ path: where, message }] });
  }
  const ids = await lookup.ids(c.env, query.after, query.limit);
  return { ids, next: ids.length === query.limit ? (ids.at(-1) ?? null) : null };
}

/**
 * Sends a `crypto.resealed` event for each tenant whose values were re-sealed, for its audit
 * log. Best effort, as `authz.denied` is: straight to the queue after the response (the
 * values were swapped by their own writers, whose outboxes this pass does not reach), so a
 * queue outage loses the record, never the re-sealing.
 */
function recordPasses(
  c: Context<AppEnv>,
  keyVersion: number,
  passes: readonly { tenant_id: string; resealed: number; raced: number }[],
): void {
  const clock = c.get("clock");
  const events = passes.flatMap((p) => {
    const event = resealedEvent({
      tenantId: p.tenant_id,
      keyVersion,
      resealed: p.resealed,
      raced: p.raced,
      id: newId(clock.now().getTime()),
      occurredAt: isoNow(clock),
      requestId: c.get("requestId") ?? null,
    });
    return event ? [{ body: event, contentType: "json" as const }] : [];
  });
  if (events.length > 0) background(c, c.env.EVENTS.sendBatch(events));
}

/**
 * The kernel's key-rotation operations for the platform operator, mounted under
 * `/api/v1`: re-sealing stale values (`plinth crypto reencrypt`) and the count of
 * ciphertexts per key version (`plinth crypto versions`), over every module that
 * declares sealed fields. Tenants are visited one at a time: each module's writers
 * are per tenant, and a page stays well inside a request's time.
 */
export function cryptoOperations(platform: { modules: readonly ModuleDef[]; tenants?: TenantLookup }) {
  // The kernel's own sealed values, after the modules': mail dead letters (notify/sealed-letters.ts).
  const fields = [...sealedFieldsOf(platform.modules), mailLettersSealed];
  return createRouter()
    .openapi(reencrypt, async (c) => {
      const keys = c.get("config").encryptionKeys;
      if (!keys) throw new AppError("unavailable", { detail: "ENCRYPTION_KEYS is not configured: nothing is sealed" });
      const current = parseMasterKeys(keys).current;
      const { ids, next } = await tenantsOf(c, platform.tenants, c.req.valid("json"), "body.after");
      const runtime = requestRuntime(c, platform.modules);
      const tenants = [];
      for (const id of ids) tenants.push(await reencryptTenant(fields, id, runtime));
      recordPasses(c, current, tenants);
      return c.json({ current_version: current, tenants, next }, 200);
    })
    .openapi(versions, async (c) => {
      const keys = c.get("config").encryptionKeys;
      const masters = keys ? parseMasterKeys(keys) : null;
      const { ids, next } = await tenantsOf(c, platform.tenants, c.req.valid("query"), "query.after");
      const runtime = requestRuntime(c, platform.modules);
      const configured = masters ? [...masters.keys.keys()] : [];
      const tenants = [];
      for (const id of ids) {
        const counted = await tenantVersions(fields, id, runtime);
        tenants.push({ ...counted, counts: withVersions(counted.counts, configured) });
      }
      return c.json(
        {
          current_version: masters?.current ?? null,
          configured_versions: configured,
          counts: withVersions(addCounts(...tenants.map((t) => t.counts)), configured),
          tenants,
          next,
        },
        200,
      );
    });
}
