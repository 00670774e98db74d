import type { Context } from "hono";
import type { ZodType } from "zod";
import type { Permission } from "../../generated/permissions";
import type { AppEnv } from "../env";
import type { ModuleRuntime } from "./types";

/** Whose data an export is for: one user of one tenant (the caller, or a member an administrator names). */
export interface DataSubject {
  tenantId: string;
  userId: string;
}

/**
 * What a module holds about one person, for their copy of it (GDPR art. 15 right of access,
 * art. 20 portability): `GET /api/v1/me/export` (kernel/personal-data/routes.ts) calls every
 * module that declares it and puts each answer under the module's name; it never names one.
 * A module without it contributes nothing. See docs/modules.md, "Personal data".
 *
 * The kernel parses what `export` returns with `schema` before it leaves, so a field the schema
 * does not declare (a password hash, a token hash, a sealed secret read with a row) is dropped,
 * never sent; the schema is also what `/openapi.json` shows of the module's part.
 *
 * @example
 * personal_data: {
 *   schema: z.object({ orders: z.array(OrderSchema), truncated: z.boolean() }),
 *   export: async ({ tenantId, userId }, rt) => bounded(await ordersOf(readModels(rt.env), tenantId, userId, 101), 100),
 * }
 */
export interface PersonalData<T = unknown> {
  /** The module's part of the export: only the fields it declares leave. */
  schema: ZodType<T>;
  /**
   * Reads what the module keeps about `subject.userId` in `subject.tenantId`: never another
   * user's data, another tenant's, or a secret (a password or token hash, a sealed value).
   * Bounded: each list holds at most a documented number of items, and says when it stopped there.
   */
  export(subject: DataSubject, runtime: ModuleRuntime): Promise<T>;
}

/**
 * Thrown by a module's `export` when the person is not there to export (deleted since the request
 * was admitted): the route answers it, a signed-in user's token refused, an administrator's 404.
 */
export class SubjectGone extends Error {
  constructor() {
    super("the user no longer exists");
    this.name = "SubjectGone";
  }
}

/**
 * An administrator's copy of one member's export (`GET /api/v1/users/{id}/export`), the same
 * composition as `/me/export`: the module holding the tenant's members declares who may take it
 * (`ModuleDef.auth.member_export`, at most one module), and records both kinds of export; without
 * one the route is not served, and a person's own export is not recorded.
 */
export interface MemberExport {
  /** The permission the route asks of its caller: a user's, through their roles, or a key's scope. */
  permission: Permission;
  /**
   * Called before any module reads: refuses the caller on member `userId` of the request's
   * tenant by throwing the answer (404 for no such member, 403 for its rules), or records that
   * they took the export (the audit log's entry) and returns.
   */
  admit(c: Context<AppEnv>, userId: string): Promise<void>;
  /**
   * Called by `/me/export` before any module reads: records that the signed-in user took their
   * own export (a disclosure as an administrator's is), or throws {@link SubjectGone} when they
   * are gone since their token was checked.
   */
  recordOwn(c: Context<AppEnv>): Promise<void>;
}

/**
 * The first `max` of `rows` (read with a limit of `max + 1`), and whether there were more: how a
 * module's part says it stopped at its bound rather than leaving the reader to guess.
 */
export function bounded<T>(rows: readonly T[], max: number): { items: T[]; truncated: boolean } {
  return { items: rows.slice(0, max), truncated: rows.length > max };
}
