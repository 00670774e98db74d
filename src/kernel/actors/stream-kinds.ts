import type { ModuleDef } from "../modules/types";
import type { ActorAddress } from "./options";

/** Where an actor named a stream: in an `emit`, or as the address its pauses escalate to. */
export type StreamUse = "emit" | "escalation";

/**
 * Thrown by an actor's `emit` to a stream whose kind (`<tenant>/<kind>/…`) is a registered
 * aggregate type. The stream catalog, a projection's versions and a replay of the aggregate know a
 * stream by its name alone, so the actor's counter and the Aggregate object's would collide
 * silently (docs/actors.md, "Stream names"): refused here, inside the handler's transaction, so
 * nothing the message wrote is committed. Thrown too for such an escalation address, as soon as
 * the actor has one (escalation-check.ts).
 */
export class StreamOfAggregate extends Error {
  override name = "StreamOfAggregate";
  constructor(
    readonly actor: string,
    readonly stream: string,
    readonly kind: string,
    readonly module: string,
    use: StreamUse = "emit",
  ) {
    const named = use === "emit" ? `${actor} emitted to stream` : `${actor}'s escalationAddress() names stream`;
    super(
      `${named} "${stream}", whose kind "${kind}" is an aggregate type of module ${module}: ` +
        "an actor's stream kind is never an aggregate's, name its streams otherwise",
    );
  }
}

/**
 * The stream kinds an actor may not emit to: the aggregate types (`aggregates[].decider.type`)
 * of the platform's modules (`ActorOptions.modules`), each with its module. It cannot see the
 * kinds another actor emits to (strings built at run time), so two actors can still collide.
 */
export class AggregateKinds {
  private readonly owners: ReadonlyMap<string, string>;

  constructor(
    private readonly actor: string,
    modules: readonly ModuleDef[],
  ) {
    this.owners = new Map(modules.flatMap((m) => (m.aggregates ?? []).map((a) => [a.decider.type, m.name] as const)));
  }

  /** Throws {@link StreamOfAggregate} for a stream whose kind is a registered aggregate type. */
  check(address: ActorAddress, use: StreamUse = "emit"): void {
    const kind = address.stream.split("/")[1];
    const module = kind === undefined ? undefined : this.owners.get(kind);
    if (kind !== undefined && module !== undefined)
      throw new StreamOfAggregate(this.actor, address.stream, kind, module, use);
  }
}
