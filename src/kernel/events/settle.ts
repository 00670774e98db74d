/**
 * How the queue consumer (queue.ts) settles a message its subscriptions did
 * not all apply: a malformed one is stored as a dead letter (a pack's, one
 * letter per event), a failed one is retried with backoff, and a pack with
 * failed events sends them on alone; with the shapes of a parsed message and
 * a pack, and what the dead-letter queue and a migration hold keep of them.
 */
import type { Clock } from "../clock";
import { errorFields, type Logger } from "../log";
import { Deferred } from "./consume";
import type { DeadLetterInput, deadLetterStore } from "./dead-letters";
import { type Envelope, MalformedEvent } from "./envelope";
import { unpack } from "./pack";

/** Exponential backoff for a message's next attempt: 2, 4, 8 … 300 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 ** Math.max(attempts, 1), 300);
}

/** Whether storing a dead letter worked; if not, the message is retried rather than lost. */
async function stored(store: () => Promise<unknown>): Promise<boolean> {
  try {
    await store();
    return true;
  } catch {
    return false;
  }
}

/** What the settlers act on: the batch, where letters and re-sent events go, and the batch's failures. */
export interface SettleDeps {
  batch: MessageBatch<unknown>;
  env: Env;
  dead: Pick<ReturnType<typeof deadLetterStore>, "store">;
  clock: Clock;
  /** Each failed event's error by event id, filled as the subscriptions run. */
  failures: ReadonlyMap<string, unknown>;
  /**
   * The subscription (`<module>:<name>`) each failed event failed in, by event id: logged
   * with the error, since a dead letter does not say which of its event's subscriptions threw.
   */
  failedIn: ReadonlyMap<string, string>;
  /** The logger of a message's lines (and its event's, when it parsed). */
  logOf: (message: Message<unknown>, event?: Envelope) => Logger;
  /** Counts a message's outcome. */
  settled: (outcome: "acked" | "retried" | "dead_lettered") => void;
}

/** The batch's settlers: a failed or malformed message, a pack's malformed event, a pack with failed events. */
export function settlers({ batch, env, dead, clock, failures, failedIn, logOf, settled }: SettleDeps) {
  return { settleFailed, storedAlone, settlePack };

  async function settleFailed(
    message: Message<unknown>,
    error: unknown,
    event?: Envelope,
  ): Promise<"dead_lettered" | "retried"> {
    const mlog = logOf(message, event);
    if (
      error instanceof MalformedEvent &&
      (await stored(() => dead.store(batch.queue, message, error.message, clock.now())))
    ) {
      mlog.error("malformed event stored as dead letter", { issues: error.issues });
      message.ack();
      settled("dead_lettered");
      return "dead_lettered";
    }
    const delaySeconds = retryDelaySeconds(message.attempts);
    const level = error instanceof Deferred ? "warn" : "error";
    mlog[level]("message failed; will retry", {
      delay_s: delaySeconds,
      subscriber: event ? failedIn.get(event.id) : undefined,
      ...errorFields(error),
    });
    message.retry({ delaySeconds });
    settled("retried");
    return "retried";
  }

  /**
   * Stores event `i` of a pack as a dead letter of its own (`<message id>/<i>`)
   * when it is malformed, as a bare malformed message is; false if it is not
   * malformed or could not be stored.
   */
  async function storedAlone(message: Message<unknown>, i: number, body: unknown, error: unknown) {
    if (!(error instanceof MalformedEvent)) return false;
    const letter = packLetter(message, i, body);
    if (!(await stored(() => dead.store(batch.queue, letter, error.message, clock.now())))) return false;
    logOf(message).error("malformed event of a pack stored as dead letter", {
      dead_letter: letter.id,
      issues: error.issues,
    });
    return true;
  }

  /**
   * A pack some of whose events failed: a malformed one is stored as a dead
   * letter; the others go back to the queue as single messages, after the
   * backoff the pack would have had, each then retried and dead-lettered on its
   * own (its attempts counted anew), and the pack is acked, its other events
   * being applied. If they cannot be sent, or a malformed event could not be
   * stored, the pack is retried whole; its applied events are skipped as
   * recorded when it comes back.
   */
  async function settlePack(message: Message<unknown>, pack: Pack, failed: readonly Envelope[]) {
    const delaySeconds = retryDelaySeconds(message.attempts);
    const retryWhole = (error: unknown) => {
      logOf(message).error("pack not settled; will retry it whole", { delay_s: delaySeconds, ...errorFields(error) });
      message.retry({ delaySeconds });
      settled("retried");
      return "retried" as const;
    };
    if (pack.held) return retryWhole(new Error("a malformed event of the pack could not be stored"));
    const again: unknown[] = [];
    for (const e of failed) {
      const why = failures.get(e.id);
      const i = pack.at.get(e.id) ?? -1;
      const body = pack.bodies[i] ?? e;
      if (await storedAlone(message, i, body, why)) continue;
      again.push(body);
      const level = why instanceof Deferred ? "warn" : "error";
      logOf(message, e)[level]("packed event failed; sent on alone", {
        delay_s: delaySeconds,
        subscriber: failedIn.get(e.id),
        ...errorFields(why),
      });
    }
    try {
      if (again.length > 0)
        await env.EVENTS.sendBatch(again.map((body) => ({ body, contentType: "json", delaySeconds })));
    } catch (error) {
      return retryWhole(error);
    }
    message.ack();
    settled("acked");
    return "acked" as const;
  }
}

/**
 * What of a held message waits for the migration: a bare message whole; of a pack, only its
 * failed events (bare when one), as sent. Its applied events would be skipped anyway, but its
 * malformed ones, already stored as dead letters, would be stored again under the new message.
 */
export function heldBody({ message, events, pack }: Delivered, failures: ReadonlyMap<string, unknown>): unknown {
  if (!pack) return message.body;
  const bodies = events.filter((e) => failures.has(e.id)).map((e) => pack.bodies[pack.at.get(e.id) ?? -1] ?? e);
  return bodies.length === 1 ? bodies[0] : { events: bodies };
}

/** A parsed message: its events, and for a pack its bodies and where each event sits in it. */
export interface Delivered {
  message: Message<unknown>;
  events: Envelope[];
  pack?: Pack;
}

/** A pack's bodies as sent, each parsed event's index in them, and whether it must be retried whole. */
export interface Pack {
  bodies: unknown[];
  at: Map<string, number>;
  held: boolean;
}

/** What the dead-letter queue stores of a message: itself, or each event of a pack as `<message id>/<index>`. */
export function lettersOf(message: Message<unknown>): DeadLetterInput[] {
  const packed = unpack(message.body);
  if (!packed) return [message];
  return packed.map((body, i) => packLetter(message, i, body));
}

/** Event `i` of a pack as a dead letter of its own: message id `<message id>/<i>`. */
const packLetter = (message: Message<unknown>, i: number, body: unknown): DeadLetterInput => ({
  id: `${message.id}/${i}`,
  body,
  attempts: message.attempts,
});
