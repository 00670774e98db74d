/**
 * Queues' limits as the outbox meets them (1 KB = 1000 bytes): 100 messages and
 * 256 KB per `sendBatch`, 128 KB per message, of which ~100 bytes are the
 * queue's own metadata. An event travels as one message at least, so an event
 * larger than a message can never leave its writer: the writer refuses to
 * commit it ({@link assertEventFits}) rather than store a row that would stop
 * its outbox for good.
 */

export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 250_000;
export const MAX_MESSAGE_BYTES = 128_000;
const MESSAGE_OVERHEAD_BYTES = 128;

/** The largest event (its envelope as JSON, in UTF-8 bytes) a queue message carries. */
export const MAX_EVENT_BYTES = MAX_MESSAGE_BYTES - MESSAGE_OVERHEAD_BYTES;

const encoder = new TextEncoder();

/**
 * A serialised event's size as a queue message: for a short one an upper bound
 * (a UTF-16 unit is at most 3 UTF-8 bytes), which spares encoding every row; the
 * exact UTF-8 size otherwise.
 */
export function messageBytes(json: string): number {
  const bound = json.length * 3;
  return (bound <= 4096 ? bound : encoder.encode(json).byteLength) + MESSAGE_OVERHEAD_BYTES;
}

/** An event too large for any queue message; thrown before it is stored, so nothing was written. */
export class EventTooLargeError extends Error {
  override readonly name = "EventTooLargeError";

  constructor(
    readonly type: string,
    readonly bytes: number,
  ) {
    // Names the type and size only: the payload must not reach the logs.
    super(`event ${type} is ${bytes} bytes as JSON; a queue message carries at most ${MAX_EVENT_BYTES}`);
  }
}

/**
 * Throws {@link EventTooLargeError} when `json` (a serialised envelope) is over
 * {@link MAX_EVENT_BYTES}. Costs nothing for events under ~42,000 characters,
 * which cannot be over whatever they contain.
 */
export function assertEventFits(type: string, json: string): void {
  if (json.length * 3 <= MAX_EVENT_BYTES) return;
  const bytes = encoder.encode(json).byteLength;
  if (bytes > MAX_EVENT_BYTES) throw new EventTooLargeError(type, bytes);
}
