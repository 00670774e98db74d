/**
 * The one event envelope. Every writer's outbox, the EVENTS queue, every
 * subscriber and the audit log speak it; a module declares only the `data`
 * of its own event types (a discriminated union of `{ type, data }`, see
 * {@link eventTypes}), and subscribers receive events parsed with it.
 */
import { z } from "zod";
import { fieldPath } from "../errors/field-path";

/** Who caused an event. */
export const ActorSchema = z.object({
  kind: z.enum(["user", "api_key", "platform", "system", "anonymous"]),
  id: z.string().max(200).nullable(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** A JSON value: what event data is made of (and what crosses DO RPC). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * What the audit log records of an event beyond its actor and target: a few
 * short facts the writer chose (a denied permission, a revoked key's cause),
 * never personal data or a payload. A flat object, at most 2 KiB as JSON.
 */
export const AuditFactsSchema = z
  .record(
    z.string().max(64),
    z.union([z.string().max(256), z.number(), z.boolean(), z.null(), z.array(z.string().max(128)).max(64)]),
  )
  .refine((d) => JSON.stringify(d).length <= 2048, "at most 2 KiB");
export type AuditFacts = z.infer<typeof AuditFactsSchema>;

/** Keyed hash of a client's IP address (kernel/http/client-ip.ts), for the audit log; never the address. */
export const IpHashSchema = z.string().regex(/^[0-9a-f]{32}$/);

/** W3C trace context of the request that caused the event, so one trace shows a command and its effects. */
export const TraceContextSchema = z.object({
  traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/),
  tracestate: z.string().max(512).optional(),
});

/** `<module>.<entity>.<verb>` (modules' events) or `<area>.<verb>` (the kernel's `authz.denied`). */
const EventType = z
  .string()
  .max(200)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/);

/**
 * The envelope: identity, place in its stream, time, cause, and `data`, whose
 * shape the publishing module declares. `stream` is `<tenant>/<kind>/<id…>`
 * and `version` counts that stream's events from 1, so a projection can tell
 * a duplicate from a gap.
 */
export const EnvelopeSchema = z.object({
  id: z.string().min(1).max(64),
  type: EventType,
  tenant_id: z.string().min(1).max(64),
  stream: z.string().min(3).max(400),
  version: z.number().int().min(1),
  occurred_at: z.iso.datetime(),
  actor: ActorSchema,
  request_id: z.string().max(128).nullable(),
  ip_hash: IpHashSchema.nullish(),
  audit: AuditFactsSchema.optional(),
  trace: TraceContextSchema.optional(),
  data: z.record(z.string(), z.unknown()),
});

/** Where an event happened: the tenant, and the aggregate (or actor stream) by its type and id. */
export interface StreamAddress {
  tenantId: string;
  type: string;
  id: string;
}

/**
 * Splits an envelope's `stream`, `<tenant>/<type>/<id>`, into its parts: an aggregate's id is
 * there, not in its events' data. The id is everything after the type, slashes included.
 * Throws on a stream without an id (no envelope that parsed has one from a plinth writer).
 *
 * @example
 * subscribe("notify.followers", PostEventSchema, ["blog.post.published"], async (event, rt) => {
 *   const { id } = parseStream(event.stream); // the post's id
 * });
 */
export function parseStream(stream: string): StreamAddress {
  const [tenantId, type, ...rest] = stream.split("/");
  if (!tenantId || !type || rest.length === 0) throw new Error(`malformed stream "${stream}"`);
  return { tenantId, type, id: rest.join("/") };
}

/** An event as it travels: the envelope with untyped data. */
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** An event as a writer emits it into its outbox. */
export type OutgoingEvent = Omit<Envelope, "data"> & { data: { [key: string]: Json } };

/** An event as a decider or a writer names it: its type and its data. */
export interface NewEvent {
  type: string;
  data: { [key: string]: Json };
}

/** A module's events: a schema parsing `{ type, data }`, a discriminated union on `type`. */
export type EventUnion<E extends NewEvent = NewEvent> = z.ZodDiscriminatedUnion<
  readonly z.ZodObject<{ type: z.ZodLiteral<string>; data: z.ZodType }>[],
  "type"
> &
  z.ZodType<E>;

/** A typed event: the envelope with one declared type and its parsed data. */
export type Event<E extends NewEvent> = Omit<Envelope, "type" | "data"> & E;

/**
 * The event types a module's union declares, read from the schema itself.
 *
 * @example
 * eventTypes(PostEventSchema) // ["blog.post.created", "blog.post.updated", …]
 */
export function eventTypes(schema: EventUnion): string[] {
  return schema.options.flatMap((option) => [...option.shape.type.values].map(String));
}

/** Thrown for an event whose envelope or data does not parse: retrying cannot fix it, so it goes to the dead letters at once. */
export class MalformedEvent extends Error {
  override name = "MalformedEvent";
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** Each issue with its field's path written as a 400's is (fieldPath), so the operator's log reads one form. */
const issuesOf = (error: z.ZodError) => error.issues.map((i) => ({ path: fieldPath(i.path), message: i.message }));

/** Parses an envelope; {@link MalformedEvent} when it is not one. */
export function parseEnvelope(value: unknown): Envelope {
  const parsed = EnvelopeSchema.safeParse(value);
  if (!parsed.success) throw new MalformedEvent("malformed event envelope", issuesOf(parsed.error));
  return parsed.data;
}

/**
 * Parses an envelope's `{ type, data }` with the publisher's declared union;
 * {@link MalformedEvent} when the data does not match its declaration.
 */
export function parseEvent<E extends NewEvent>(schema: z.ZodType<E>, envelope: Envelope): Event<E> {
  const parsed = schema.safeParse({ type: envelope.type, data: envelope.data });
  if (!parsed.success) throw new MalformedEvent(`malformed ${envelope.type} data`, issuesOf(parsed.error));
  return { ...envelope, ...parsed.data };
}

/**
 * Parses a writer's stored event with its decider's union. Stored events are history: a schema
 * since tightened (a field made required) leaves its stream unreadable, so the error says which
 * stream, version and fields, in a plain message (a ZodError crossing Durable Object RPC arrives
 * as the bare word "ZodError").
 */
export function parseStoredEvent<E extends NewEvent>(schema: z.ZodType<E>, envelope: Envelope): E {
  const parsed = schema.safeParse({ type: envelope.type, data: envelope.data });
  if (parsed.success) return parsed.data;
  const fields = issuesOf(parsed.error)
    .map((i) => `${i.path}: ${i.message}`)
    .join("; ");
  throw new Error(
    `stored event ${envelope.stream} v${envelope.version} (${envelope.type}) does not parse with its decider's eventSchema (${fields}); stored events are history: parse them leniently (docs/modules.md)`,
  );
}
