import type { Context } from "hono";
import { routePath } from "hono/route";
import { z } from "zod";
import { newId } from "../crypto";
import type { AppEnv } from "../env";
import { AppError, type ErrorCodeSpec, type FieldError } from "../errors";
import type { AuditFacts, OutgoingEvent } from "../events/envelope";
import { originOf } from "../events/origin";
import { background } from "../http/background";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";

/** A refused authority decision: what the client is told and what the audit log records. */
export interface Denial {
  /** The permission the principal lacks (a role or scope check). */
  permission?: string;
  /** Or the named rule that refused (a delegation policy, a deny rule of a module). */
  rule?: string;
  /** The permissions the rule involves, if any (e.g. those the caller does not hold). */
  permissions?: readonly string[];
  /** The id of the resource acted on, when there is one. */
  target?: string | null;
  /** The sentence for the client. */
  detail: string;
  /** The request's fields the refusal is about, each with why (as `validation_failed` lists them). */
  errors?: FieldError[];
  /**
   * How the refusal is answered: `forbidden` (403) by default, `conflict` (409)
   * for a state conflict such as "the last owner", or a module's own code.
   */
  code?: "forbidden" | "conflict" | { code: string; spec: ErrorCodeSpec };
}

/** `authz.denied`, one per refused authority decision: one of the kernel's events (events/kernel-events.ts). */
export const AuthzDeniedEvent = z.object({
  type: z.literal("authz.denied"),
  data: z.object({
    permission: z.string().optional(),
    rule: z.string().optional(),
    permissions: z.array(z.string()).optional(),
    method: z.string(),
    route: z.string(),
    target: z.string().nullable(),
  }),
});

// Ids the audit log may repeat: what routes accept as ids and names, nothing longer.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The route's own id or name parameter, when it has one of a safe shape. */
function targetOf(c: Context<AppEnv>, given: string | null | undefined): string | null {
  const candidate = given ?? c.req.param("id") ?? c.req.param("name");
  return candidate !== undefined && SAFE_ID.test(candidate) ? candidate : null;
}

/**
 * The one path by which plinth refuses an authority decision: it records an
 * `authz.denied` event (the permission or rule, method, route pattern and
 * target) for the tenant's audit log and returns the error to throw.
 *
 * Recording is best effort: the event goes straight to the EVENTS queue after
 * the response (no outbox, since the refusal wrote no state to commit with),
 * so a queue outage loses it, and the refusal never waits for it or fails
 * because of it.
 *
 * @example
 * if (!can(principal, permission)) throw deny(c, { permission, detail: `missing permission ${permission}` });
 */
export function deny(c: Context<AppEnv>, denial: Denial): AppError {
  const tenant = c.get("tenant");
  const principal = c.get("principal");
  if (tenant && principal && principal.kind !== "platform") {
    const facts: AuditFacts = {
      ...(denial.permission ? { permission: denial.permission } : {}),
      ...(denial.rule ? { rule: denial.rule } : {}),
      ...(denial.permissions?.length ? { permissions: [...denial.permissions] } : {}),
      method: c.req.method,
      route: routePath(c),
      target: targetOf(c, denial.target),
    };
    // The request's origin, as every writer of a request's events has it: one clock reading,
    // so the event's id is of the time it says it occurred at.
    const origin = originOf(c);
    const id = newId(Date.parse(origin.now));
    const event: OutgoingEvent = {
      id,
      type: "authz.denied",
      tenant_id: tenant.id,
      // Each denial is a stream of its own (no writer orders denials), so its version 1 is true.
      stream: `${tenant.id}/authz.denied/${id}`,
      version: 1,
      occurred_at: origin.now,
      actor: origin.actor,
      data: facts,
      request_id: origin.requestId,
      ip_hash: origin.ipHash,
      audit: facts,
    };
    background(c, c.env.EVENTS.send(event, { contentType: "json" }));
  }
  const code = denial.code ?? "forbidden";
  isolateRecorder.inc(METRICS.authFailures, [denial.rule ? "deny_rule" : "missing_permission"]);
  const told = { detail: denial.detail, ...(denial.errors ? { errors: denial.errors } : {}) };
  return typeof code === "string" ? new AppError(code, told) : new AppError(code.code, { ...told, spec: code.spec });
}
