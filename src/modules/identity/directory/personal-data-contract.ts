import { z } from "zod";
import { defineRpc } from "../../../kernel/durable/rpc";
import { OriginSchema } from "../../../kernel/events/origin";
import { Id, Iso } from "./contract-shapes";
import { IdentityPersonalDataSchema } from "./personal-data";
import { deniableResultOf, resultOf } from "./types";

/**
 * The TenantDirectory's part of a user's export (durable-objects/directory/personal-data.ts): part
 * of its RPC contract (contract.ts spreads it). The reply is parsed with the export's own schema,
 * so what the object read beyond it is dropped at the boundary already.
 */
export const PersonalDataRpc = defineRpc({
  /** What the directory holds about `userId` at `now`; null when there is no such user. */
  personalData: { args: z.object({ userId: Id, now: Iso }), reply: IdentityPersonalDataSchema.nullable() },
  /**
   * An administrator's export of user `id` (GET /api/v1/users/{id}/export), before any module reads
   * it: asked of the authority policy with the directory's current state, and recorded
   * (`identity.user.exported`, by the caller, about the user) in the same call.
   */
  admitUserExport: { args: z.object({ ctx: OriginSchema, id: Id }), reply: deniableResultOf(z.null(), ["not_found"]) },
  /**
   * A user's own export (GET /api/v1/me/export), before any module reads it: recorded
   * (`identity.user.exported`, the user as actor and target), as an administrator's is.
   * `not_found` when the user (ctx's actor) is gone since their token was checked.
   */
  recordOwnExport: { args: z.object({ ctx: OriginSchema }), reply: resultOf(z.null(), ["not_found"]) },
});
