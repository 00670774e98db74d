/**
 * Several events in one queue message: `{ "events": [envelope, …] }`.
 *
 * The outbox relay packs the events of one send (kernel/outbox/drain.ts), so
 * a busy writer's queue traffic is counted in messages of up to
 * {@link PACK_MAX_EVENTS} events, not one message per event. Queues bills and
 * limits by message (an operation per 64 KB, 5,000 messages/s per queue), and
 * Miniflare's local broker arms a timer per message, past whose limit it
 * refuses sends (docs/operations.md, "Outbox"); a pack is one of each.
 *
 * A message with one event carries it bare, as every message did before
 * packs, so a consumer reads both shapes and a deploy needs no drain of the
 * queue. The consumer still settles each event on its own: an event of a pack
 * that fails leaves the pack as a message of its own (kernel/events/queue.ts).
 */

/**
 * Events per pack at most. A consumer batch is up to `max_batch_size` (50; 100 in
 * production) messages, so this bounds one invocation at 1,250 events (2,500): large enough that
 * a busy writer's send is one or two messages, small enough that an
 * invocation's D1 and Durable Object calls stay far inside a Worker's limits.
 */
export const PACK_MAX_EVENTS = 25;

/** Bytes a pack adds to its events' own: `{"events":[` and `]}` (each event adds a comma, counted with it). */
const PACK_BYTES = 13;

/** One event ready to send: its body, and its size as a message (an upper bound is fine). */
export interface PackItem {
  body: unknown;
  bytes: number;
}

/**
 * The messages carrying `items` in order: consecutive events grouped into
 * packs of at most {@link PACK_MAX_EVENTS} events and `maxBytes` each; a
 * group of one is sent bare. Every item must fit `maxBytes` on its own.
 *
 * @example
 * await queue.sendBatch(packMessages(rows, 128_000));
 */
export function packMessages(items: readonly PackItem[], maxBytes: number): MessageSendRequest<unknown>[] {
  const messages: MessageSendRequest<unknown>[] = [];
  let group: unknown[] = [];
  let bytes = PACK_BYTES;
  const close = () => {
    if (group.length === 1) messages.push({ body: group[0], contentType: "json" });
    else if (group.length > 1) messages.push({ body: { events: group }, contentType: "json" });
    group = [];
    bytes = PACK_BYTES;
  };
  for (const item of items) {
    if (group.length === PACK_MAX_EVENTS || bytes + item.bytes + 1 > maxBytes) close();
    group.push(item.body);
    bytes += item.bytes + 1;
  }
  close();
  return messages;
}

/**
 * The events a message body carries: a pack's, in order; `undefined` when the
 * body is not a pack (a bare event, or something malformed, which the caller
 * parses as one event). A pack is an object whose only key is a non-empty
 * `events` array.
 */
export function unpack(body: unknown): unknown[] | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  const events: unknown = Reflect.get(body, "events");
  if (keys.length !== 1 || !Array.isArray(events) || events.length === 0) return undefined;
  return events;
}

/** The events a message body carries, packed or bare (a bare body is returned as is, unparsed). */
export const eventsOf = (body: unknown): unknown[] => unpack(body) ?? [body];
