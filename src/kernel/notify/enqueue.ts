import type { Clock } from "../clock";
import { errorFields, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder, type MetricsRecorder } from "../metrics/recorder";
import { countDeadLetter } from "../queues/dead-letter-count";
import { retry, withTimeout } from "../resilience/retry";
import type { Sleeper } from "../resilience/sleep";
import type { MailMessage } from "./message";

/**
 * How a request puts its mail on the MAIL queue when the queue fails for a moment (Queues
 * answers a 5xx now and then): three attempts, full-jitter waits of at most 200 ms then
 * 400 ms, none begun past 2 s after the first. The request's mail is queued after the
 * directory committed its token (often after the response), so a single failed send lost
 * it; the queue itself holds it from there on (the consumer's retries, the dead letters).
 * Bounded, because the request (or its `waitUntil`) waits through it.
 *
 * The request path's policy only: a queue subscriber's mail (`runtimeNotifier`) is retried
 * with its message by the queue, an actor's (`objectNotifier`) with its timer by the actor's
 * supervision, so their sends try once and throw.
 *
 * An attempt the queue has not answered within `attemptTimeoutMs` is given up (a send that
 * hangs would otherwise hold the request, and the budget, for as long as the runtime lets it):
 * the mail is then kept as a dead letter, and if that send did land after all, the replay's
 * copy carries the same mail id (delivered once to the dev mailbox, the same `Idempotency-Key`
 * to the provider).
 */
export const MAIL_ENQUEUE_RETRY = {
  maxAttempts: 3,
  baseMs: 200,
  maxMs: 1_000,
  budgetMs: 2_000,
  attemptTimeoutMs: 2_000,
} as const;

/**
 * Queues' limit on a message is 128 KB; a mail past it (a plain one of two 60 000-character
 * parts) is refused every time, so it is refused here, before the queue, and never retried.
 */
export const MAIL_MESSAGE_MAX_BYTES = 128_000;

/** A mail message larger than the queue takes: it cannot be queued, however often it is tried. */
export class MailTooLarge extends Error {
  readonly retryable = false;
  constructor(readonly bytes: number) {
    super(`the mail message is ${bytes} bytes, more than the queue's ${MAIL_MESSAGE_MAX_BYTES}`);
    this.name = "MailTooLarge";
  }
}

/**
 * What became of a mail stored as a dead letter ({@link EnqueueRetry.keep}): `stored`, or
 * `duplicate` (a letter of that mail was there already), or `suppressed` (its recipient's account
 * was deleted meanwhile: not kept, as the consumer drops such mail).
 */
export type KeptAs = "stored" | "duplicate" | "suppressed";

/** What retrying a request's send needs: the request's waits, its log, the isolate's metrics. */
export interface EnqueueRetry {
  sleeper: Sleeper;
  log: Pick<Logger, "error">;
  /**
   * Keeps a mail the queue still did not take after the retries, where a later replay finds it
   * (the request path: a mail dead letter, unqueued.ts), with why (`reason`) and how
   * often it was tried. Not called for a mail the queue can never take (too large, refused as a
   * bad argument): a replay would fail the same.
   */
  keep?: (message: MailMessage, reason: string, attempts: number) => Promise<KeptAs>;
  /** Default: the isolate's recorder. */
  recorder?: MetricsRecorder;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * Whether a failed `queue.send` may succeed when tried again. Not a mail too large, nor what
 * workerd refuses as a bad argument (a `TypeError`: a body it cannot serialise, a content
 * type it does not know), nor a size refusal of the queue service: the same again fails the
 * same. Everything else (`Queue send failed: <status>`, a network error) is worth a retry.
 */
export function enqueueRetryable(error: unknown): boolean {
  if (error instanceof MailTooLarge || error instanceof TypeError) return false;
  return !/too large|exceeds/i.test(messageOf(error));
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** How a mail not queued ended, as `plinth_mail_enqueue_failed_total{outcome}` says. */
type NotQueued = "kept" | "dropped" | "lost";

/**
 * Hands a mail not queued to `retrying.keep` when it may be queued later; a keep that fails (D1
 * down with the queue) is logged and the mail is lost. Never throws.
 */
async function tryKeeping(
  retrying: EnqueueRetry,
  message: MailMessage,
  error: unknown,
  attempts: number,
): Promise<KeptAs | null> {
  if (!retrying.keep || !enqueueRetryable(error)) return null;
  try {
    return await retrying.keep(message, `not queued: ${messageOf(error)}`, attempts);
  } catch (keepError) {
    retrying.log.error("mail not kept as a dead letter", {
      event: "mail.keep_failed",
      mail_id: message.id,
      mail_kind: message.kind,
      tenant_id: message.tenant_id,
      ...errorFields(keepError),
    });
    return null;
  }
}

/**
 * Puts `message` on `queue`, once, or under {@link MAIL_ENQUEUE_RETRY} when `retrying` is
 * given. A mail still not queued is kept by `retrying.keep` when it may be queued later, and
 * then the send returns: the mail waits, pending, for the minute's resend (resend-unqueued.ts)
 * or, an hour on, the operator's replay. Either way it is
 * logged at error (its kind, tenant and id: never the recipient, subject or body, which are in
 * `content`) and counted in `plinth_mail_enqueue_failed_total{kind,outcome}`, so an operator can
 * alert on it; a mail not kept (`lost`) throws the last error to the caller, as before.
 */
export async function enqueueMail(
  queue: Queue,
  message: MailMessage,
  clock: Clock,
  retrying?: EnqueueRetry,
): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(message)).byteLength;
  const send = async () => {
    if (bytes > MAIL_MESSAGE_MAX_BYTES) throw new MailTooLarge(bytes);
    await queue.send(message, { contentType: "json" });
  };
  if (!retrying) return send();
  let attempts = 0;
  try {
    await retry(
      () => {
        attempts++;
        return withTimeout(send, MAIL_ENQUEUE_RETRY.attemptTimeoutMs, retrying.sleeper);
      },
      {
        ...MAIL_ENQUEUE_RETRY,
        clock,
        sleeper: retrying.sleeper,
        deadline: clock.now().getTime() + MAIL_ENQUEUE_RETRY.budgetMs,
        retryable: enqueueRetryable,
        ...(retrying.random ? { random: retrying.random } : {}),
      },
    );
  } catch (error) {
    const kept = await tryKeeping(retrying, message, error, attempts);
    const outcome: NotQueued = kept === null ? "lost" : kept === "suppressed" ? "dropped" : "kept";
    retrying.log.error("mail not queued", {
      event: "mail.enqueue_failed",
      mail_id: message.id,
      mail_kind: message.kind,
      tenant_id: message.tenant_id,
      attempts,
      outcome,
      ...errorFields(error),
    });
    const recorder = retrying.recorder ?? isolateRecorder;
    recorder.inc(METRICS.mailEnqueueFailed, [message.kind, outcome]);
    // Counted as the consumer counts the letters it stores: once, when stored.
    if (kept === "stored") countDeadLetter(recorder, "mail", message.kind);
    if (outcome === "lost") throw error;
  }
}
