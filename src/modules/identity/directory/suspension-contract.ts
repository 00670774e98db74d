import { z } from "zod";
import { defineRpc } from "../../../kernel/durable/rpc";
import { Id, withCtx } from "./contract-shapes";
import { deniableResultOf, UserViewSchema } from "./types";

/** An administrator's reason for a suspension, as the route validated it (kernel DisplayName rules, 1–200). */
export const SUSPENSION_REASON_MAX = 200;

const Changed = z.object({ user: UserViewSchema, changed: z.boolean() });

/**
 * The TenantDirectory's member suspension (durable-objects/directory/suspension.ts): asked of the
 * authority policy in the same call as the write, as deleting a user is.
 */
export const SuspensionRpc = defineRpc({
  suspendUser: {
    args: withCtx({ id: Id, reason: z.string().min(1).max(SUSPENSION_REASON_MAX).nullable() }),
    reply: deniableResultOf(Changed, ["not_found", "revokes_caller"]),
  },
  reactivateUser: {
    args: withCtx({ id: Id }),
    reply: deniableResultOf(Changed, ["not_found"]),
  },
});
