import { z } from "zod";
import { defineRpc } from "../../../kernel/durable/rpc";
import { Id, Iso } from "./contract-shapes";
import { IdentityPersonalDataSchema } from "./personal-data";

/**
 * The TenantDirectory's part of a user's export (durable-objects/directory/personal-data.ts): part
 * of its RPC contract (contract.ts spreads it). The reply is parsed with the export's own schema,
 * so what the object read beyond it is dropped at the boundary already.
 */
export const PersonalDataRpc = defineRpc({
  /** What the directory holds about `userId` at `now`; null when there is no such user. */
  personalData: { args: z.object({ userId: Id, now: Iso }), reply: IdentityPersonalDataSchema.nullable() },
});
