import { toHex } from "../crypto/tokens";
import { stringField } from "./message-fields";

/**
 * What a dead letter holds, by its own identity rather than its queue message's: the tenant and
 * id of the event or mail in `body` (`["event", tenant, id]`), which every delivery of it keeps.
 * The message id does not: a redelivery keeps it, but a letter sent back to its main queue on its
 * last dead-letter delivery (send-back.ts) comes back under a new one, and so does a replay that
 * fails again. The stores keep one letter per key, so one event (one mail) is one letter, and a
 * replay of the pending letters sends it once. A body without an id (a malformed message) is
 * known by its SHA-256 (`["event-body", hex]`): the same bytes are the same letter.
 *
 * @example
 * await letterKey("mail", { v: 1, id: "01J…", tenant_id: "t_1", … }); // '["mail","t_1","01J…"]'
 */
export async function letterKey(source: "event" | "mail", body: unknown): Promise<string> {
  const id = stringField(body, "id");
  // The same JSON as migration 0016's json_array(), which keyed the letters stored before.
  if (id !== null) return JSON.stringify([source, stringField(body, "tenant_id"), id]);
  const bytes = new TextEncoder().encode(JSON.stringify(body) ?? "null");
  return JSON.stringify([`${source}-body`, toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))]);
}
