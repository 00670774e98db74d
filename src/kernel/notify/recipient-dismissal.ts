import type { Context } from "hono";
import type { AppEnv } from "../env";
import { systemOrigin } from "../events/origin";
import type { Logger } from "../log";
import type { ModuleRuntime } from "../modules/types";
import { type LetterActor, letterActorOf, requestActor, sendRecordsBy } from "../queues/dead-letter-audit";
import type { BackoffPolicy } from "../resilience";
import { type MailDeadLetter, mailDeadLetterStore, mailLetter } from "./dead-letters";
import { lateMailWindowMs } from "./late-mail";
import { contentOf, MailMessageSchema } from "./message";
import { recipientDigest } from "./recipient-digest";
import { mailSuppressionStore } from "./suppressions";

/**
 * How many of a tenant's undigested mail dead letters (from before recipient digests, or whose
 * content did not open when stored) one deletion opens. Letters are the operator's backlog of a
 * provider outage, dismissed or replayed within days: far fewer than this for one tenant. Past
 * it the rest stay, as the operator's to dismiss.
 */
export const RECIPIENT_SCAN_LIMIT = 1_000;

/**
 * Dismisses tenant `tenantId`'s mail dead letters addressed to `to` (compared without case):
 * an account being deleted must not be mailed by a later replay, and its address must not wait
 * in the operator's store. Letters are found by their recipient digest (recipient-digest.ts);
 * those without one are opened to read their recipient (the address is never in the clear), and
 * one that does not open is left for the operator. Recorded as the operator's own dismissal is
 * (`mail.dead_letter.dismissed` in the tenant's audit log, by the request's principal, and the
 * log line), once the letter is dismissed, so the letter's end is on record. First it holds the digest (suppressions.ts) until
 * mail still on the queue can no longer fail into the store, which then refuses it: those letters
 * are never stored. Returns how many. Throws when D1 or the events queue fails; what was not
 * dismissed then is found again by its digest ({@link dismissMailToDigest}), which holds it too.
 *
 * @example
 * await dismissMailTo(c, tenant.id, "ada@example.com"); // 1
 */
export async function dismissMailTo(c: Context<AppEnv>, tenantId: string, to: string): Promise<number> {
  const { encryptionKeys, ipHashKey, mail } = c.get("config");
  const store = mailDeadLetterStore(c.env.DB);
  const address = to.toLowerCase();
  const digest = recipientDigest(ipHashKey, tenantId, address);
  // First, so a letter that fails after this search is refused rather than stored unseen.
  if (digest) await holdLateMail(c.env.DB, tenantId, digest, c.get("clock").now(), mail.retry);
  const addressed = digest ? await store.toRecipient(tenantId, digest) : [];
  for (const { letter, message } of await store.undigested(tenantId, RECIPIENT_SCAN_LIMIT)) {
    const mail = MailMessageSchema.safeParse(message);
    if (!mail.success) continue;
    const content = await contentOf(mail.data, encryptionKeys).catch(() => null);
    if (content?.to.toLowerCase() === address) addressed.push(letter);
  }
  const by = requestActor(c) ?? letterActorOf(systemOrigin(c.get("clock"), null));
  return dismiss(c.env, c.get("log"), by, addressed);
}

/**
 * Dismisses tenant `tenantId`'s mail dead letters to the recipient of `digest`, by the `system`
 * actor `by`: the retry of a deletion whose own dismissal failed (the hourly
 * `tenants/purge-tokens`), when the account and its email are gone and only the digest its
 * directory kept is left. Letters without a digest are not found this way. Returns how many.
 *
 * @example
 * await dismissMailToDigest(runtime, tenantId, digest, "tenants/purge-tokens");
 */
export async function dismissMailToDigest(
  runtime: Pick<ModuleRuntime, "env" | "config" | "log" | "clock">,
  tenantId: string,
  digest: string,
  by: string,
): Promise<number> {
  // From this run, not the deletion (its time is not kept): later, so never shorter.
  await holdLateMail(runtime.env.DB, tenantId, digest, runtime.clock.now(), runtime.config.mail.retry);
  const letters = await mailDeadLetterStore(runtime.env.DB).toRecipient(tenantId, digest);
  // Read once the letters are found, as the records' time: not the hold's reading above.
  return dismiss(runtime.env, runtime.log, letterActorOf(systemOrigin(runtime.clock, by)), letters);
}

/**
 * Refuses dead letters to the recipient of `digest` from `now` until mail queued before it can
 * no longer fail into the store (late-mail.ts): the deletion's search finds those stored before.
 */
async function holdLateMail(db: D1Database, tenantId: string, digest: string, now: Date, retry: BackoffPolicy) {
  const until = new Date(now.getTime() + lateMailWindowMs(retry)).toISOString();
  await mailSuppressionStore(db).hold(tenantId, digest, until);
}

/** Dismisses `letters`, then records those dismissed; logs each as the operator's dismissal is. */
async function dismiss(env: Env, log: Logger, by: LetterActor, letters: readonly MailDeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  const store = mailDeadLetterStore(env.DB);
  const done: MailDeadLetter[] = [];
  for (const letter of letters) {
    const dismissed = await store.dismiss(letter.id);
    // Gone since it was found (the operator dismissed it meanwhile): nothing left to do.
    if (!dismissed) continue;
    done.push(letter);
    log.info("mail dead letter dismissed", {
      event: "mail.dead_letter.dismissed",
      mail_id: dismissed.mail_id,
      mail_kind: dismissed.kind,
      cause: "recipient_deleted",
      dead_letter_id: dismissed.id,
      message_id: dismissed.message_id,
      tenant_id: dismissed.tenant_id,
      reason: dismissed.reason,
      replayed_at: dismissed.replayed_at,
      by: `${by.actor.kind}:${by.actor.id}`,
    });
  }
  // Recorded once dismissed, not before: a dismissal's record is keyed by its letter (the first
  // record wins), so one sent ahead of a write that then failed would name this attempt's actor
  // for the hourly retry's dismissal. A record that cannot be sent leaves the log line above.
  await sendRecordsBy(env.EVENTS, by, "mail.dead_letter.dismissed", done.map(mailLetter));
  return letters.length;
}
