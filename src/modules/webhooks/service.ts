import { AppError, moduleError } from "../../kernel/errors";
import type { Origin } from "../../kernel/events/origin";
import { type ExpectedVersion, versionMatches } from "../../kernel/http/if-match";
import { staleVersion } from "../../kernel/http/stale-version";
import { type EndpointView, endpointActor, registry } from "./contract";
import { webhookErrors } from "./errors";

/**
 * What the tenant's admin routes (routes.ts) and the platform's (platform-routes.ts) do to a
 * tenant's endpoints, given the tenant: one copy, whichever key asked. The callers establish
 * the tenant first (the request's, or a live one the platform named).
 */

export const notFound = () => new AppError("not_found", { detail: "no such webhook endpoint" });

/**
 * How the caller enables an endpoint again, by the routes it came through: a tenant's admin
 * PATCHes it; the platform (whose key the tenant's routes refuse) POSTs to its enable route.
 */
export const enableWay = {
  tenant: (_tenantId: string, id: string) => `PATCH /api/v1/admin/webhooks/${id} with enabled: true`,
  platform: (tenantId: string, id: string) => `POST /api/v1/platform/tenants/${tenantId}/webhooks/${id}/enable`,
} as const;
export type EnableWay = keyof typeof enableWay;

/** Why an endpoint is disabled, as its view says. */
type DisabledView = { disabled_reason: string | null; disabled_note: string | null };

/**
 * Refuses to queue a message that would wait, unsent, until someone enabled the endpoint again,
 * naming the way to enable it that the caller can take: for the tenant, of an endpoint the
 * platform disabled, the platform's operators (its PATCH would be refused: platformHeld).
 */
export const disabled = (way: EnableWay, tenantId: string, id: string, endpoint: DisabledView) => {
  const held = way === "tenant" && endpoint.disabled_reason === "platform";
  const how = held
    ? `the platform disabled it (${endpoint.disabled_note === null ? "no reason given" : `reason: ${endpoint.disabled_note}`}) and only the platform's operators can enable it`
    : enableWay[way](tenantId, id);
  return moduleError(webhookErrors, "endpoint_disabled", {
    detail: `the message would wait unsent until the endpoint is enabled (${how})`,
  });
};

/**
 * The tenant enabling an endpoint the platform disabled: 409 (the key may write the endpoint,
 * and may still change everything else; it is the endpoint's state that stands in the way, and
 * no other key of the tenant would do), naming the operator's reason and who enables it.
 */
export const platformHeld = (note: string | null) =>
  moduleError(webhookErrors, "endpoint_disabled_by_platform", {
    detail: `the platform disabled this endpoint (${note === null ? "no reason given" : `reason: ${note}`}) and only the platform can enable it: fix the cause, then ask the platform's operators to enable it; you may still change its URL, filters, description and secret, or delete it`,
  });

/** A write the registry refused: 412 with the endpoint's version, 409 held by the platform, or 404. */
export const writeRefused = (
  failed:
    | { error: "not_found" }
    | { error: "version_conflict"; current_version: number }
    | { error: "platform_disabled"; note: string | null },
) => {
  if (failed.error === "version_conflict") return staleVersion("the endpoint", failed.current_version);
  if (failed.error === "platform_disabled") return platformHeld(failed.note);
  return notFound();
};

/**
 * The tenant's endpoint, and whether its actor was reached (before, it holds nothing: its reads
 * are answered without opening it), or 404 (another tenant's id answers the same).
 */
export async function foundEndpoint(env: Env, tenantId: string, id: string) {
  const found = await registry(env, tenantId).get({ id });
  if (!found) throw notFound();
  return found;
}

/** The tenant's endpoint, or 404 (another tenant's id answers the same). */
export const endpointOf = async (env: Env, tenantId: string, id: string) =>
  (await foundEndpoint(env, tenantId, id)).endpoint;

/** The delivery health of an endpoint whose actor nothing reached: nothing sent, nothing failed. */
export const UNREACHED_HEALTH = { breaker: "closed", failing_since: null, failures: 0, pending: 0 } as const;

/** A page of the tenant's endpoints, newest first (never their secrets). */
export async function endpointPage(env: Env, tenantId: string, query: { limit: number; cursor?: string | undefined }) {
  const page = await registry(env, tenantId).list({ limit: query.limit, cursor: query.cursor ?? null });
  return { items: page.items, next_cursor: page.next };
}

/** A page of an endpoint's delivery log, latest queued first; 404 for an endpoint not the tenant's. */
export async function deliveryPage(
  env: Env,
  tenantId: string,
  id: string,
  query: { limit: number; cursor?: string | undefined; status?: "pending" | "delivered" | "failed" | undefined },
) {
  const { reached } = await foundEndpoint(env, tenantId, id);
  if (!reached) return { items: [], next_cursor: null };
  const page = await endpointActor(env, tenantId, id).deliveries({
    limit: query.limit,
    cursor: query.cursor ?? null,
    ...(query.status ? { status: query.status } : {}),
  });
  return { items: page.items, next_cursor: page.next };
}

/**
 * Puts up to `limit` of the endpoint's given-up deliveries (since `since`, RFC 3339) back in
 * its queue, oldest first, recorded in the tenant's audit log as the caller's
 * (`webhooks.deliveries.redelivered`) when any went back. 404 for an endpoint not the
 * tenant's; 409 for a disabled one, where they would wait unsent (naming the `way` the
 * caller enables it).
 */
export async function redeliverFailed(
  env: Env,
  caller: { ctx: Origin; way: EnableWay },
  tenantId: string,
  id: string,
  body: { since?: string | undefined; limit: number },
) {
  const { ctx, way } = caller;
  const { endpoint, reached } = await foundEndpoint(env, tenantId, id);
  if (!endpoint.enabled) throw disabled(way, tenantId, id, endpoint);
  if (!reached) return { requeued: 0, remaining: 0 };
  const since = body.since === undefined ? null : Date.parse(body.since);
  return endpointActor(env, tenantId, id).redeliverFailed({ ctx, since, limit: body.limit });
}

/**
 * Whether the platform's disabling of an endpoint already disabled still has something to
 * record: another reason than its own (an admin's, failing), so that it holds, or a new note.
 */
const recordsPlatform = (endpoint: EndpointView, platformDisable: { note: string | null } | undefined) =>
  platformDisable !== undefined &&
  (endpoint.disabled_reason !== "platform" || endpoint.disabled_note !== platformDisable.note);

/**
 * Enables the endpoint (it sends what it kept queued, then new events), or disables it (it
 * sends nothing, and events are not queued for it), over the version `expected` names, else
 * over the one just read, so a change in between is a 412 rather than overwritten. One already
 * in that state is answered as it is: no write, no new version, no audit entry.
 * `platformDisable`: the platform's disabling, recorded as `platform` with the operator's note,
 * also over one already disabled otherwise (or with another note), so that it holds.
 */
export async function setEndpointEnabled(
  env: Env,
  tenantId: string,
  id: string,
  ctx: Origin,
  expected: ExpectedVersion | undefined,
  enabled: boolean,
  platformDisable?: { note: string | null },
): Promise<EndpointView> {
  const endpoint = await endpointOf(env, tenantId, id);
  if (!versionMatches(expected, endpoint.version)) throw staleVersion("the endpoint", endpoint.version);
  if (endpoint.enabled === enabled && !recordsPlatform(endpoint, enabled ? undefined : platformDisable))
    return endpoint;
  const result = await registry(env, tenantId).update({
    ctx,
    tenant_id: tenantId,
    id,
    expected_version: expected ?? endpoint.version,
    patch: { enabled },
    ...(platformDisable && !enabled ? { platform_disable: platformDisable } : {}),
  });
  if (!result.ok) throw writeRefused(result);
  return result.endpoint;
}
