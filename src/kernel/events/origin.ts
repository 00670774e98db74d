import type { Context } from "hono";
import { z } from "zod";
import type { Principal } from "../auth/types";
import { type Clock, isoNow } from "../clock";
import type { AppEnv } from "../env";
import { clientIpHash } from "../http/client-ip";
import { type Actor, ActorSchema, IpHashSchema } from "./envelope";

/**
 * Who caused a change and when: what a request hands a Durable Object (a module's actor, the
 * directory, an aggregate) with the message, so the events it emits and the tenant's audit
 * entries name the caller, the request and the client's address hash. The kernel's, so a product
 * module builds it as identity, files and webhooks do, with {@link originOf}, importing no module.
 */
export const OriginSchema = z.object({
  /** The request's clock (RFC 3339 UTC): a test's manual clock reaches the object too. */
  now: z.iso.datetime(),
  actor: ActorSchema,
  requestId: z.string().max(128).nullable(),
  /** Keyed hash of the client's IP (kernel/http/client-ip.ts); absent off the request path. */
  ipHash: IpHashSchema.nullish(),
});
export type Origin = z.infer<typeof OriginSchema>;

/** The event actor of a principal: a user, an API key or the platform operator by id; `anonymous` without one. */
export function actorOf(principal: Principal | undefined): Actor {
  if (!principal) return { kind: "anonymous", id: null };
  return { kind: principal.kind, id: principal.id };
}

/**
 * The request's origin: its clock's now, its principal as the actor (or `actor`, where a caller
 * proved to be someone the request's principal is not), request id and client IP hash.
 *
 * @example
 * await itemActor(c.env, tenant.id, id).setQuantity({ origin: originOf(c), quantity });
 * // in the actor, in the same receive as the change:
 * this.emit(address, { type: "inventory.item.low", data, ...origin });
 */
export function originOf(c: Context<AppEnv>, actor: Actor = actorOf(c.get("principal"))): Origin {
  return { now: isoNow(c.get("clock")), actor, requestId: c.get("requestId") ?? null, ipHash: clientIpHash(c) };
}

/**
 * The origin of a change no request caused (a job's run, a step an object takes on its own): the
 * `system` actor named `id`, no request id, no address hash. `id` names the job as the scheduler
 * does (`<module>/<job>`, e.g. `tenants/apply-grants`), the name the tenant's audit log shows
 * its admin; null for a step with no job behind it. `at` is the clock, read once here, or the
 * time the caller already read (an object handed its caller's `now`), which it keeps: build the
 * origin where the change's time is to be read.
 *
 * @example
 * const ctx = systemOrigin(runtime.clock, "tenants/apply-grants");
 * await directory(env, tenantId).applyGrants({ ctx, grants });
 */
export function systemOrigin(at: Clock | string, id: string | null): Origin {
  const now = typeof at === "string" ? at : isoNow(at);
  return { now, actor: { kind: "system", id }, requestId: null, ipHash: null };
}
