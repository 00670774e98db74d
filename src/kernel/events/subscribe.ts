import type { z } from "zod";
import type { ModuleRuntime, Subscription } from "../modules/types";
import { type Envelope, type Event, type NewEvent, parseEvent } from "./envelope";

// What a subscriber needs beside `subscribe`: its event's aggregate id is in the stream.
export { parseStream, type StreamAddress } from "./envelope";

/**
 * A subscription to some of a publisher's event types: each delivered event
 * is parsed with the publisher's declared union (so the handler receives
 * typed data, and malformed data goes to the dead letters at once) before
 * `handle` runs.
 *
 * @example
 * subscribe("blog.posts", PostEventSchema, ["blog.post.created", "blog.post.deleted"], async (event, rt) => {
 *   if (event.type === "blog.post.created") await insert(rt.env, event.data.title);
 * });
 */
export function subscribe<E extends NewEvent, T extends E["type"]>(
  name: string,
  schema: z.ZodType<E>,
  types: readonly T[],
  handle: (event: Event<Extract<E, { type: T }>>, runtime: ModuleRuntime) => Promise<void>,
): Subscription {
  const wanted = (e: Event<E>): e is Event<Extract<E, { type: T }>> => (types as readonly string[]).includes(e.type);
  return {
    name,
    types,
    async handle(envelope, runtime) {
      const event = parseEvent(schema, envelope);
      if (wanted(event)) await handle(event, runtime);
    },
  };
}

/** A subscription to every event type (an audit log, a mirror): the handler sees the envelope, data unparsed. */
export function subscribeAll(
  name: string,
  handle: (event: Envelope, runtime: ModuleRuntime) => Promise<void>,
): Subscription {
  return { name, types: "*", handle };
}
