import type { Context } from "hono";
import { z } from "zod";
import { newId } from "../crypto";
import { hash } from "../crypto/hash";
import { toHex } from "../crypto/tokens";
import type { AppEnv } from "../env";
import type { Actor, AuditFacts, OutgoingEvent } from "../events/envelope";
import { type Origin, originOf } from "../events/origin";

/** What the tenant's audit log says of an event dead letter acted on: which letter, and the event it held. */
const EventLetterFacts = z.object({
  dead_letter_id: z.string(),
  event_id: z.string().nullable(),
  event_type: z.string().nullable(),
});

/** Of a mail dead letter: which letter, and which mail of what kind (never its address or content). */
const MailLetterFacts = z.object({
  dead_letter_id: z.string(),
  mail_id: z.string().nullable(),
  mail_kind: z.string().nullable(),
});

/**
 * The events the kernel publishes when a tenant's dead letter is dismissed or replayed, by the
 * tenant's admin or the platform operator: the tenant's audit log records them, so its auditor
 * sees who did it and when (the platform's log line is not theirs to read).
 */
export const DeadLetterEvents = [
  z.object({ type: z.literal("events.dead_letter.dismissed"), data: EventLetterFacts }),
  z.object({ type: z.literal("events.dead_letter.replayed"), data: EventLetterFacts }),
  z.object({ type: z.literal("mail.dead_letter.dismissed"), data: MailLetterFacts }),
  z.object({ type: z.literal("mail.dead_letter.replayed"), data: MailLetterFacts }),
] as const;

/** What was done to which kind of letter. */
export type DeadLetterAction = z.infer<(typeof DeadLetterEvents)[number]>["type"];

/** A letter acted on: its id, whose it is (null: the message named no tenant), and its facts. */
export interface AuditedLetter {
  id: string;
  tenant_id: string | null;
  facts: AuditFacts;
}

/**
 * A dismissal's event id: the letter's, hashed with what was done to it (an event letter's and a
 * mail letter's may share an id), in the envelope's bounds whatever the letter's id is.
 */
function dismissalId(action: DeadLetterAction, letterId: string): string {
  const digest = hash.blake2b(new TextEncoder().encode(`${action}\u0000${letterId}`), { outLen: 16 });
  return `dismissal-${toHex(digest)}`;
}

/** Who acts on letters, and when: a request's principal, or a job (`system`). */
export interface LetterActor {
  actor: Actor;
  requestId: string | null;
  ipHash: string | null;
  now: Date;
}

/**
 * The request's principal as the one acting on letters, from the request's origin (one clock
 * read); null without a principal: an anonymous request acts on no letter.
 */
export function requestActor(c: Context<AppEnv>): LetterActor | null {
  if (!c.get("principal")) return null;
  return letterActorOf(originOf(c));
}

/**
 * The one acting on letters of `origin`: a request's ({@link originOf}) or a job's
 * (`systemOrigin`), its time as the Date the letters' stores compare.
 *
 * @example
 * const by = letterActorOf(systemOrigin(runtime.clock, "tenants/purge-tokens"));
 */
export function letterActorOf({ actor, requestId, ipHash, now }: Origin): LetterActor {
  return { actor, requestId, ipHash: ipHash ?? null, now: new Date(now) };
}

/**
 * The event recording `action` on `letter` by the request's principal, for the letter's
 * tenant's audit log; null for a letter that names no tenant (a malformed message), which has
 * no log to go to. Each is a stream of its own under the letter's (`<tenant>/dead_letter/<letter
 * id>/<event id>`): a letter may be replayed any number of times, and no writer orders them,
 * so each event's version 1 is true.
 *
 * @example
 * const event = deadLetterEvent(c, "events.dead_letter.dismissed", { id, tenant_id, facts });
 * if (event) await c.env.EVENTS.send(event, { contentType: "json" });
 */
export function deadLetterEvent(
  c: Context<AppEnv>,
  action: DeadLetterAction,
  letter: AuditedLetter,
): OutgoingEvent | null {
  const by = requestActor(c);
  return by ? letterEvent(by, action, letter) : null;
}

/** {@link deadLetterEvent} by whoever `by` names (a job's `system` actor too). */
export function letterEvent(by: LetterActor, action: DeadLetterAction, letter: AuditedLetter): OutgoingEvent | null {
  if (!letter.tenant_id) return null;
  // A letter is dismissed once: its record's id is the letter's, so a dismissal sent twice (two
  // admins at the same moment, or a retry after the delete failed) is one entry in the audit log,
  // which keeps one per event id. A letter may be replayed any number of times: each its own.
  const id = action.endsWith(".dismissed") ? dismissalId(action, letter.id) : newId(by.now.getTime());
  const facts = { dead_letter_id: letter.id, ...letter.facts };
  return {
    id,
    type: action,
    tenant_id: letter.tenant_id,
    stream: `${letter.tenant_id}/dead_letter/${letter.id}/${id}`,
    version: 1,
    occurred_at: by.now.toISOString(),
    actor: by.actor,
    request_id: by.requestId,
    ip_hash: by.ipHash,
    audit: facts,
    data: facts,
  };
}

/**
 * Sends the records of `letters` to the events queue (at most 100 per call, as `sendBatch`
 * takes), before the action they record: a queue that refuses them fails the request with
 * nothing done.
 */
export async function sendRecords(
  c: Context<AppEnv>,
  action: DeadLetterAction,
  letters: readonly AuditedLetter[],
): Promise<void> {
  const by = requestActor(c);
  if (by) await sendRecordsBy(c.env.EVENTS, by, action, letters);
}

/** {@link sendRecords} by whoever `by` names, to `queue`: for a job, which has no request. */
export async function sendRecordsBy(
  queue: Queue,
  by: LetterActor,
  action: DeadLetterAction,
  letters: readonly AuditedLetter[],
): Promise<void> {
  const records = letters.flatMap((l) => letterEvent(by, action, l) ?? []);
  for (let i = 0; i < records.length; i += 100) {
    await queue.sendBatch(records.slice(i, i + 100).map((body) => ({ body, contentType: "json" })));
  }
}
