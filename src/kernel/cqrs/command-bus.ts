import type { Context } from "hono";
import type { Permission } from "../../generated/permissions";
import { deny } from "../auth/deny";
import { can, principalOf, tenantOf } from "../auth/guards";
import type { Principal } from "../auth/types";
import type { AppEnv } from "../env";
import { AppError, type ErrorCodeSpec } from "../errors";
import { KERNEL_ERROR_CODES, type KernelErrorCode } from "../errors/codes";
import { aggregateOf, type HandleError } from "../events/aggregate-rpc";
import type { Decider, NewEvent } from "../events/decider";
import { actorOf, originOf } from "../events/origin";
import { describeExpected, type ExpectedVersion, versionMatches } from "../http/if-match";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { fieldErrors } from "../openapi/router";
import { inSpan, tracing } from "../telemetry";

/**
 * A deny rule (segregation of duties): refuses the command, whatever the
 * principal's permissions, when `when` holds for the current state. Answered
 * with the module's own error code (declared with status 403) and recorded as
 * `authz.denied` naming it.
 *
 * @example
 * { code: "own_order_approval", detail: "a requester may not approve their own order",
 *   when: (order, principal) => order.requested_by === principal.id }
 */
export interface DenyRule<C, S> {
  code: string;
  detail: string;
  when(state: S, principal: Principal, command: C): boolean;
}

/** A command on one aggregate, as a route hands it to the bus. */
export interface CommandRequest<C extends { type: string }, E extends NewEvent, S> {
  decider: Decider<C, E, S>;
  /** The aggregate's id within the tenant. */
  id: string;
  command: unknown;
  /** From `If-Match`: the write applies only at one of these versions. */
  expectedVersion?: ExpectedVersion;
  /**
   * The permission that allows the command, or a function choosing it from
   * the current state (e.g. approving an order above a limit needs more).
   *
   * @example
   * permission: (order) => (order.amount > 10_000 ? PERMISSIONS.orders.order.approve_large : PERMISSIONS.orders.order.approve)
   */
  permission: Permission | ((state: S) => Permission);
  /**
   * An ownership rule (ABAC): allowed without `permission` when `owns` holds
   * for the current state, but only while the principal still holds `requires`
   * (e.g. an author edits their post while they may still write posts at all;
   * a member stripped of every role loses what authorship gave them).
   */
  ownership?: { requires: Permission; owns: (state: S, principal: Principal) => boolean };
  /** Deny rules, checked before any permission: they refuse holders too. */
  deny?: readonly DenyRule<C, S>[];
  /** The module's error codes: its deciders' rejections and its deny rules' codes. */
  errors: Readonly<Record<string, ErrorCodeSpec>>;
}

function toAppError(error: HandleError, codes: Readonly<Record<string, ErrorCodeSpec>>): AppError {
  if ("current_version" in error) {
    return new AppError("version_conflict", {
      detail: error.message,
      extensions: { current_version: error.current_version },
    });
  }
  if ("errors" in error) return new AppError("validation_failed", { detail: error.message, errors: error.errors });
  // A decider may reject with a kernel code (e.g. not_found) or one its module declared.
  const spec =
    codes[error.code] ??
    (Object.hasOwn(KERNEL_ERROR_CODES, error.code) ? KERNEL_ERROR_CODES[error.code as KernelErrorCode] : undefined);
  if (spec) return new AppError(error.code, { detail: error.message, spec });
  return new AppError("internal", { cause: new Error(`undeclared domain error ${error.code}`) });
}

/**
 * The error for a permission that is not a string. The types admit only a `Permission`, but a
 * PERMISSIONS constant read before `npm run generate` made it is undefined at run time
 * (`npm start` does not typecheck): said to the developer, in the log, as operations() says
 * it at load, rather than a 500 whose cause reads "no state to choose from".
 */
function notAPermission(what: string, value: unknown, aggregate: string, command: string): Error {
  return new Error(
    `command ${aggregate}.${command}: ${what} is ${String(value)}, not a permission; a PERMISSIONS constant that ` +
      "does not exist yet? Declare the permission in the module's manifest and run npm run generate",
  );
}

/**
 * Runs a command through exactly these steps, in order: (1) log + timing,
 * (2) validation against the command's schema, (3) authorization — deny rules,
 * then the permission (fixed, or chosen from the state), or the module's
 * ownership rule — against the aggregate's current state, (4) the handler:
 * the aggregate Durable Object decides and commits. Sets the response's ETag
 * and returns the new version and state.
 */
export function dispatch<C extends { type: string }, E extends NewEvent, S>(
  c: Context<AppEnv>,
  request: CommandRequest<C, E, S>,
): Promise<{ version: number; state: S }> {
  if (!tracing()) return dispatchCommand(c, request);
  const command = request.command;
  const type = typeof command === "object" && command !== null && "type" in command ? String(command.type) : "unknown";
  return inSpan(
    `command ${request.decider.type}.${type}`,
    {
      "tenant.id": c.get("tenantId"),
      "plinth.module": c.get("module"),
      "plinth.aggregate": request.decider.type,
      "plinth.command": type,
    },
    () => dispatchCommand(c, request),
  );
}

async function dispatchCommand<C extends { type: string }, E extends NewEvent, S>(
  c: Context<AppEnv>,
  request: CommandRequest<C, E, S>,
): Promise<{ version: number; state: S }> {
  const started = performance.now();
  const tenant = tenantOf(c);
  const aggregate = aggregateOf(c.env, request.decider, tenant.id, request.id);
  const commandType =
    typeof request.command === "object" && request.command !== null && "type" in request.command
      ? String(request.command.type)
      : "unknown";
  const { permission, ownership } = request;
  if (typeof permission !== "string" && typeof permission !== "function") {
    throw notAPermission("permission", permission, request.decider.type, commandType);
  }
  if (ownership !== undefined && typeof ownership.requires !== "string") {
    throw notAPermission("ownership.requires", ownership.requires, request.decider.type, commandType);
  }
  let outcome = "ok";
  // The metric's command label: a type the decider's schema accepted, so clients cannot mint series.
  let commandLabel = "invalid";
  try {
    // (2) validation
    const parsed = request.decider.commandSchema.safeParse(request.command);
    if (!parsed.success) {
      throw new AppError("validation_failed", {
        detail: "the command is invalid",
        errors: fieldErrors("json", parsed.error),
      });
    }
    commandLabel = parsed.data.type;
    // (3) authorization, against the state at one version: the write applies to that same
    // version, so a change in between (of the owner, the amount) makes it a 412, not a bypass.
    const principal = principalOf(c, "user", "api_key");
    let expectedVersion = request.expectedVersion;
    const needsState =
      typeof permission === "function" ||
      (request.deny?.length ?? 0) > 0 ||
      (ownership !== undefined && !can(principal, permission));
    const current = needsState ? await aggregate.state() : null;
    for (const rule of request.deny ?? []) {
      if (current && rule.when(current.state, principal, parsed.data)) {
        const spec = request.errors[rule.code];
        if (!spec) throw new AppError("internal", { cause: new Error(`undeclared deny rule code ${rule.code}`) });
        throw deny(c, { rule: rule.code, target: request.id, detail: rule.detail, code: { code: rule.code, spec } });
      }
    }
    const needed = typeof permission === "function" && current ? permission(current.state) : permission;
    if (typeof needed !== "string") {
      throw notAPermission("the permission chosen from the state", needed, request.decider.type, commandType);
    }
    const owns =
      ownership !== undefined &&
      current !== null &&
      can(principal, ownership.requires) &&
      ownership.owns(current.state, principal);
    if (!can(principal, needed) && !owns) {
      throw deny(c, { permission: needed, target: request.id, detail: `missing permission ${needed}` });
    }
    if (current && versionMatches(expectedVersion, current.version)) {
      // Pinned to the very version authorization read, even when If-Match lists several: a listed
      // version the aggregate reaches meanwhile must not take a write authorized on an older state.
      expectedVersion = current.version;
    } else if (current && current.version > 0) {
      // After authorization: a 403 comes before a 412. (At version 0 there is nothing yet, and the
      // aggregate answers with its decider's refusal, a not_found, before any precondition.)
      throw toAppError(
        {
          code: "version_conflict",
          message: `expected version ${describeExpected(expectedVersion ?? current.version)}, the current version is ${current.version}`,
          current_version: current.version,
        },
        request.errors,
      );
    }
    // (4) handler
    const origin = originOf(c, actorOf(principal));
    const reply = await aggregate.handle({
      command: parsed.data,
      expectedVersion,
      // Matched or pinned above; at version 0 an If-Match that did not match passes unchanged (the
      // decider's refusal answers first), and this keeps a stream created meanwhile from taking a
      // write authorized on the empty state.
      ...(current ? { authorizedAt: current.version } : {}),
      ctx: { now: origin.now, actor: origin.actor },
      requestId: origin.requestId,
      ipHash: origin.ipHash,
    });
    if (!reply.ok) throw toAppError(reply.error, request.errors);
    c.header("ETag", `"${reply.version}"`);
    return { version: reply.version, state: reply.state };
  } catch (error) {
    outcome = error instanceof AppError ? error.code : "error";
    throw error;
  } finally {
    // (1) log + metrics: one line per command with its outcome and duration, and its count.
    isolateRecorder.inc(METRICS.commands, [request.decider.type, commandLabel, outcome]);
    c.get("log").info("command", {
      aggregate: request.decider.type,
      command: commandType,
      aggregate_id: request.id,
      outcome,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }
}
