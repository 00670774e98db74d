import type { Clock } from "../clock";
import { errorFields, type Logger } from "../log";
import { stringField } from "../queues/message-fields";
import * as queues from "../queues/send-back";
import type { DeadLetterInput, deadLetterStore } from "./dead-letters";
import { EVENTS_DLQ_MAX_RETRIES } from "./dlq-retries";
import { lettersOf, retryDelaySeconds } from "./settle";

/** The lines of an events dead letter sent back to the events queue, or not. */
export const SEND_BACK_LINES: queues.SendBackLines = {
  sent: "dead letter not stored after its last retry; sent back to the events queue",
  lost: "dead letter neither stored nor sent back; lost if this was its last retry",
};

/** Whether `message` is on its last delivery (or the one before) of the events dead-letter queue. */
export const lastDelivery = (queue: string, message: Message<unknown>): boolean =>
  queues.lastDeadLetterDelivery(queue, message, EVENTS_DLQ_MAX_RETRIES);

/** What storing a batch of the events dead-letter queue needs from the consumer. */
export interface DeadLetterQueueDeps {
  batch: MessageBatch<unknown>;
  env: Env;
  log: Logger;
  clock: Clock;
  dead: Pick<ReturnType<typeof deadLetterStore>, "store">;
  /** The deleted tenants among `ids` (the registry; throws when it cannot be read). */
  goneOf: (ids: readonly string[]) => Promise<ReadonlySet<string>>;
  /** The logger of a message's lines. */
  logOf: (message: Message<unknown>) => Logger;
  settled: (outcome: "acked" | "retried" | "dead_lettered") => void;
}

/**
 * Stores a batch of `…-events-dlq` in D1 `dead_letters` (a pack, one letter per event), but a
 * deleted tenant's letters, which carry what its erasure removed. A message D1 (or the registry)
 * refuses is retried, but on its last delivery: the dead-letter queue has no queue behind it, so
 * that retry would be Queues' deletion. Its letters not stored go back to the events queue
 * instead, the message as it was when none was stored (else only the events not stored, so none
 * becomes a dead letter twice), and it is acked: applied there by the subscriptions that have not
 * recorded it (the ledger skips the others), or back here with its retries anew.
 */
export async function storeDeadLetters({ batch, env, log, clock, dead, goneOf, logOf, settled }: DeadLetterQueueDeps) {
  const retry = (message: Message<unknown>) => {
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    settled("retried");
  };
  const sentBack = async (message: Message<unknown>, body: unknown, cause: unknown) => {
    const refused = await queues.sendBack(env.EVENTS, message, body);
    if (refused === null) {
      settled("retried");
      logOf(message).error(SEND_BACK_LINES.sent, errorFields(cause));
      return;
    }
    logOf(message).error(SEND_BACK_LINES.lost, { ...errorFields(refused), cause: errorFields(cause) });
    retry(message);
  };

  let gone: ReadonlySet<string>;
  try {
    gone = await goneOf(batch.messages.flatMap((m) => lettersOf(m).map((l) => stringField(l.body, "tenant_id") ?? "")));
  } catch (error) {
    log.error("tenant registry unreadable; retrying dead letters", errorFields(error));
    for (const message of batch.messages) {
      if (lastDelivery(batch.queue, message)) await sentBack(message, message.body, error);
      else retry(message);
    }
    return;
  }

  for (const message of batch.messages) {
    const letters = lettersOf(message).filter((l) => !gone.has(stringField(l.body, "tenant_id") ?? ""));
    const last = lastDelivery(batch.queue, message);
    const unstored: DeadLetterInput[] = [];
    let failure: unknown;
    for (const letter of letters) {
      try {
        await dead.store(batch.queue, letter, "retries exhausted", clock.now());
      } catch (error) {
        failure ??= error;
        unstored.push(letter);
        // Before its last delivery the message is retried whole; its stored letters are kept once.
        if (!last) break;
        continue;
      }
      // A line per letter, naming its event and tenant as every line of a queue message does.
      logOf(message).warn("dead letter stored", {
        ...(letter.id === message.id ? {} : { letter_id: letter.id }),
        event_id: stringField(letter.body, "id"),
        event_type: stringField(letter.body, "type"),
        tenant_id: stringField(letter.body, "tenant_id"),
        request_id: stringField(letter.body, "request_id"),
      });
    }
    if (unstored.length === 0) {
      message.ack();
      settled("dead_lettered");
    } else if (last) await sentBack(message, unstoredBody(message, letters, unstored), failure);
    else {
      logOf(message).error("dead letter not stored; will retry", errorFields(failure));
      retry(message);
    }
  }
}

/** What goes back of a message whose `unstored` letters D1 refused: itself when none of `letters` was stored. */
function unstoredBody(message: Message<unknown>, letters: DeadLetterInput[], unstored: DeadLetterInput[]): unknown {
  if (unstored.length === letters.length) return message.body;
  const bodies = unstored.map((l) => l.body);
  return bodies.length === 1 ? bodies[0] : { events: bodies };
}
