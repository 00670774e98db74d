import type { Context } from "hono";
import { z } from "zod";
import { isoNow } from "../clock";
import { newId } from "../crypto";
import type { AppEnv } from "../env";
import { clientIpHash } from "../http/client-ip";
import { stringField } from "../queues/message-fields";
import type { AuditFacts, OutgoingEvent } from "./envelope";

/** What the tenant's audit log says of a dead letter acted on: which letter, and the event it held. */
const DeadLetterFacts = z.object({
  dead_letter_id: z.string(),
  event_id: z.string().nullable(),
  event_type: z.string().nullable(),
});

/**
 * The events the kernel publishes when a tenant's dead letter is dismissed or replayed, by the
 * tenant's admin or the platform operator: the tenant's audit log records them, so its auditor
 * sees who did it and when (the platform's log line is not theirs to read).
 */
export const DeadLetterEvents = [
  z.object({ type: z.literal("events.dead_letter.dismissed"), data: DeadLetterFacts }),
  z.object({ type: z.literal("events.dead_letter.replayed"), data: DeadLetterFacts }),
] as const;

/** What was done to the letter. */
export type DeadLetterAction = "events.dead_letter.dismissed" | "events.dead_letter.replayed";

/** The letter as the routes read it: whose it is and the event it holds. */
export interface AuditedLetter {
  id: string;
  tenant_id: string | null;
  event_type: string | null;
  event: unknown;
}

/**
 * The event recording `action` on `letter` by the request's principal, for the letter's
 * tenant's audit log; null for a letter that names no tenant (a malformed message), which has
 * no log to go to. Each is a stream of its own under the letter's (`<tenant>/dead_letter/<letter
 * id>/<event id>`): a letter may be replayed any number of times, and no writer orders them,
 * so each event's version 1 is true.
 *
 * @example
 * const event = deadLetterEvent(c, "events.dead_letter.dismissed", letter);
 * if (event) await c.env.EVENTS.send(event, { contentType: "json" });
 */
export function deadLetterEvent(
  c: Context<AppEnv>,
  action: DeadLetterAction,
  letter: AuditedLetter,
): OutgoingEvent | null {
  const principal = c.get("principal");
  if (!letter.tenant_id || !principal) return null;
  const facts: AuditFacts = {
    dead_letter_id: letter.id,
    event_id: stringField(letter.event, "id"),
    event_type: letter.event_type,
  };
  const id = newId(c.get("clock").now().getTime());
  return {
    id,
    type: action,
    tenant_id: letter.tenant_id,
    stream: `${letter.tenant_id}/dead_letter/${letter.id}/${id}`,
    version: 1,
    occurred_at: isoNow(c.get("clock")),
    actor: { kind: principal.kind, id: principal.id },
    request_id: c.get("requestId") ?? null,
    ip_hash: clientIpHash(c),
    audit: facts,
    data: facts,
  };
}
