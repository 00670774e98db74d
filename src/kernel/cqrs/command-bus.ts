import type { Context } from "hono";
import type { Permission } from "../../generated/permissions";
import { deny } from "../auth/deny";
import { can, principalOf, tenantOf } from "../auth/guards";
import type { Principal } from "../auth/types";
import type { AppEnv } from "../env";
import { AppError, type ErrorCodeSpec } from "../errors";
import { KERNEL_ERROR_CODES, type KernelErrorCode } from "../errors/codes";
import type { AggregateReply } from "../events/aggregate-store";
import type { Decider, NewEvent } from "../events/decider";
import { clientIpHash } from "../http/client-ip";
import { fieldErrors } from "../openapi/router";

/** A command on one aggregate, as a route hands it to the bus. */
export interface CommandRequest<C extends { type: string }, S> {
  decider: Decider<C, NewEvent, S>;
  /** The aggregate's id within the tenant. */
  id: string;
  command: unknown;
  /** From `If-Match`: the write applies only at this version. */
  expectedVersion?: number;
  /** The permission that allows the command for anyone. */
  permission: Permission;
  /**
   * An ownership rule (ABAC): allowed without `permission` when `owns` holds
   * for the current state, but only while the principal still holds `requires`
   * (e.g. an author edits their post while they may still write posts at all;
   * a member stripped of every role loses what authorship gave them).
   */
  ownership?: { requires: Permission; owns: (state: S, principal: Principal) => boolean };
  /** The module's own error codes, for its deciders' rejections. */
  errors: Record<string, ErrorCodeSpec>;
}

/** The aggregate Durable Object of a stream. */
export function aggregateStub(env: Env, tenantId: string, type: string, id: string) {
  return env.AGGREGATE.getByName(`${tenantId}/${type}/${id}`);
}

/** Reads an aggregate's current version and state from its single writer (read-your-writes). */
export async function readAggregate<S>(
  env: Env,
  tenantId: string,
  type: string,
  id: string,
): Promise<{ version: number; state: S }> {
  const reply = await aggregateStub(env, tenantId, type, id).state({ stream: { tenantId, type, id } });
  return { version: reply.version, state: JSON.parse(reply.state) as S };
}

function toAppError(
  error: Extract<AggregateReply, { ok: false }>["error"],
  codes: Record<string, ErrorCodeSpec>,
): AppError {
  if (error.code === "version_conflict" && "current_version" in error) {
    return new AppError("version_conflict", {
      detail: error.message,
      extensions: { current_version: error.current_version },
    });
  }
  if (error.code === "validation_failed" && "errors" in error) {
    return new AppError("validation_failed", { detail: error.message, errors: error.errors });
  }
  // A decider may reject with a kernel code (e.g. not_found) or one its module declared.
  const spec =
    codes[error.code] ??
    (Object.hasOwn(KERNEL_ERROR_CODES, error.code) ? KERNEL_ERROR_CODES[error.code as KernelErrorCode] : undefined);
  if (spec) return new AppError(error.code, { detail: error.message, spec });
  return new AppError("internal", { cause: new Error(`undeclared domain error ${error.code}`) });
}

/**
 * Runs a command through exactly these steps, in order: (1) trace + log +
 * timing, (2) validation against the command's schema, (3) authorization —
 * the permission, or the module's ownership rule against the aggregate's
 * current state — then the handler: the aggregate Durable Object decides and
 * commits. Returns the new version and state.
 */
export async function dispatch<C extends { type: string }, S>(
  c: Context<AppEnv>,
  request: CommandRequest<C, S>,
): Promise<{ version: number; state: S }> {
  const started = performance.now();
  const tenant = tenantOf(c);
  const type = request.decider.type;
  const commandType =
    typeof request.command === "object" && request.command !== null && "type" in request.command
      ? String(request.command.type)
      : "unknown";
  let outcome = "ok";
  try {
    // (2) validation
    const parsed = request.decider.commandSchema.safeParse(request.command);
    if (!parsed.success) {
      throw new AppError("validation_failed", {
        detail: "the command is invalid",
        errors: fieldErrors("json", parsed.error),
      });
    }
    // (3) authorization
    const principal = principalOf(c, "user", "api_key");
    let expectedVersion = request.expectedVersion;
    if (!can(principal, request.permission)) {
      const rule = request.ownership;
      let owns = false;
      if (rule && can(principal, rule.requires)) {
        const current = await readAggregate<S>(c.env, tenant.id, type, request.id);
        owns = rule.owns(current.state, principal);
        // Allowed by the state at this version only: the write must apply to that same
        // version, so a change in between (say, of the owner) makes it a 412, not a bypass.
        expectedVersion ??= current.version;
      }
      if (!owns) {
        const permission = request.permission;
        throw deny(c, { permission, target: request.id, detail: `missing permission ${permission}` });
      }
    }
    // handler
    const reply = await aggregateStub(c.env, tenant.id, type, request.id).handle({
      stream: { tenantId: tenant.id, type, id: request.id },
      command: parsed.data,
      expectedVersion,
      actor: { kind: principal.kind, id: principal.id },
      requestId: c.var.requestId,
      ipHash: clientIpHash(c),
    });
    if (!reply.ok) throw toAppError(reply.error, request.errors);
    return { version: reply.version, state: JSON.parse(reply.state) as S };
  } catch (error) {
    outcome = error instanceof AppError ? error.code : "error";
    throw error;
  } finally {
    // (1) trace + log + metrics: one line per command with its outcome and duration.
    c.var.log.info("command", {
      aggregate: type,
      command: commandType,
      aggregate_id: request.id,
      outcome,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }
}

/** Parses `If-Match` (`3` or `"3"`); undefined when absent, 412-worthy garbage is a 400. */
export function ifMatch(c: Context<AppEnv>): number | undefined {
  const header = c.req.header("if-match");
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m?.[1]) {
    throw new AppError("validation_failed", {
      detail: "If-Match must be a version number",
      errors: [{ path: "header.if-match", message: 'must be a version like 3 or "3"' }],
    });
  }
  return Number(m[1]);
}
