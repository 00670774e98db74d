import { z } from "zod";
import { defineRpc } from "./rpc";

/**
 * The RPC method a per-tenant Durable Object adds to its contract so that
 * offboarding can empty it (`...EraseRpc` in its `defineRpc`). The caller names
 * the tenant it means: an object bound to another tenant refuses, so a caller's
 * bug can never erase a neighbour's data. Erasing an empty object is a no-op
 * answer, so a retried erasure is harmless.
 */
export const EraseRpc = defineRpc({
  eraseAll: {
    args: z.object({ tenant_id: z.string().min(1).max(64) }),
    reply: z.object({ erased: z.literal(true) }),
  },
});

/** Thrown by an object asked to erase a tenant it does not belong to. */
export class WrongTenant extends Error {
  override name = "WrongTenant";
  constructor(object: string) {
    super(`${object} refused to erase: it belongs to another tenant`);
  }
}

/**
 * Deletes every key, table and alarm of an object's storage, then lays the
 * schema down again, so the object answers as a new, empty one at once (its
 * constructor's migration does not run again in this instance).
 */
export async function wipeStorage(storage: DurableObjectStorage, migrate: () => void): Promise<void> {
  await storage.deleteAlarm();
  await storage.deleteAll();
  migrate();
}
