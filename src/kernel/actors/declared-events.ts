import { type EventUnion, eventTypes } from "../events/envelope";
import { ESCALATED } from "./supervision";

/**
 * Thrown by an actor's `emit` for an event type its `publishes` does not declare. The outbox
 * took any string, and an undeclared type reached the tenant's audit log and every endpoint
 * following its prefix while no webhook filter, `event_read` pattern or subscription could name
 * it: refused here, inside the handler's transaction, so nothing the message wrote is committed.
 */
export class UndeclaredEvent extends Error {
  override name = "UndeclaredEvent";
  constructor(
    readonly actor: string,
    readonly type: string,
    declared: readonly string[],
  ) {
    const which = declared.length > 0 ? `it declares ${declared.join(", ")}` : "it declares none";
    super(
      `${actor} emitted event type "${type}", which its publishes does not declare (${which}): ` +
        "add it to the module's events.publishes union",
    );
  }
}

/**
 * The types an actor may emit: its module's declared union (`ActorOptions.publishes`), and the
 * base's own `actor.escalated`, which every actor emits when its supervision pauses it.
 */
export class DeclaredEvents {
  private readonly declared: readonly string[];
  private readonly allowed: ReadonlySet<string>;

  constructor(
    private readonly actor: string,
    publishes: EventUnion | undefined,
  ) {
    this.declared = publishes ? eventTypes(publishes) : [];
    this.allowed = new Set([...this.declared, ESCALATED]);
  }

  /** Throws {@link UndeclaredEvent} for a type the actor does not declare. */
  check(type: string): void {
    if (!this.allowed.has(type)) throw new UndeclaredEvent(this.actor, type, this.declared);
  }
}
