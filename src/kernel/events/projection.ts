import type { DomainEvent } from "../outbox";

/**
 * A read model fed by one aggregate type's events. `position` is the last
 * version applied for the event's stream (0 when none); `apply` must be
 * conditional on it (apply version v only where the stored version is v - 1),
 * so concurrent or repeated deliveries cannot apply an event twice.
 */
export interface StreamProjection {
  name: string;
  position(env: Env, event: DomainEvent): Promise<number>;
  apply(env: Env, event: DomainEvent): Promise<void>;
}

/** Splits `<tenant>/<type>/<id>`. */
export function parseStream(stream: string): { tenantId: string; type: string; id: string } {
  const [tenantId, type, ...rest] = stream.split("/");
  if (!tenantId || !type || rest.length === 0) throw new Error(`malformed stream "${stream}"`);
  return { tenantId, type, id: rest.join("/") };
}

/** Events read from the writer per call while filling a gap. */
export const CATCH_UP_PAGE = 1000;

/**
 * Applies one delivered event so the read model ends up the same whatever the
 * delivery order and however often each event arrives: what it already has is
 * ignored; on a gap the missing events are read from the aggregate's single
 * writer, `pageSize` at a time, and applied in order up to the delivered one.
 * Throws (so the message is retried) when the writer does not have them.
 */
export async function project(
  env: Env,
  projection: StreamProjection,
  event: DomainEvent,
  pageSize: number = CATCH_UP_PAGE,
): Promise<"applied" | "skipped"> {
  let position = await projection.position(env, event);
  if (event.version <= position) return "skipped";
  if (event.version === position + 1) {
    await projection.apply(env, event);
    return "applied";
  }
  const stream = parseStream(event.stream);
  const writer = env.AGGREGATE.getByName(event.stream);
  while (position < event.version) {
    const page = await writer.read({
      stream,
      fromVersion: position + 1,
      limit: Math.min(event.version - position, pageSize),
    });
    let advanced = false;
    for (const raw of page) {
      const e = JSON.parse(raw) as DomainEvent;
      if (e.version !== position + 1 || e.version > event.version) break;
      await projection.apply(env, e);
      position = e.version;
      advanced = true;
    }
    if (!advanced) {
      throw new Error(`${projection.name}: ${event.stream} has no version ${position + 1} at its writer`);
    }
  }
  return "applied";
}
