import { eventTypes } from "../events/envelope";
import type { ModuleDef } from "../modules/types";
import { ESCALATED } from "./supervision";

/**
 * Thrown by an actor's `emit` for an event type its module does not declare. The outbox
 * took any string, and an undeclared type reached the tenant's audit log and every endpoint
 * following its prefix while no webhook filter, `event_read` pattern or subscription could name
 * it: refused here, inside the handler's transaction, so nothing the message wrote is committed.
 */
export class UndeclaredEvent extends Error {
  override name = "UndeclaredEvent";
  constructor(
    readonly actor: string,
    readonly type: string,
    module: string | undefined,
    declared: readonly string[],
  ) {
    const which = declared.length > 0 ? `it declares ${declared.join(", ")}` : "it declares none";
    const whose = module === undefined ? "its options name no module" : `module ${module} does not declare`;
    super(
      `${actor} emitted event type "${type}", which ${whose} (${which}): ` +
        "name the actor's module in its options and add the type to that module's events.publishes union",
    );
  }
}

/**
 * Thrown by an actor's constructor when its options' `module` is no module of its `modules`: a
 * misspelt name would otherwise leave it emitting nothing, refused only at the first emit.
 */
export class UnknownActorModule extends Error {
  override name = "UnknownActorModule";
  constructor(actor: string, module: string, modules: readonly ModuleDef[]) {
    super(
      `${actor} names module "${module}", which is no registered module (${modules.map((m) => m.name).join(", ")}): ` +
        "give its options the name in its module's manifest",
    );
  }
}

/**
 * The types an actor may emit: its module's declared union (the `events.publishes` of the module
 * its options name, found among their `modules`), and the base's own `actor.escalated`, which
 * every actor emits when its supervision pauses it. The module's union is the one source: an
 * actor cannot be handed another module's.
 */
export class DeclaredEvents {
  private readonly declared: readonly string[];
  private readonly allowed: ReadonlySet<string>;

  /** Throws {@link UnknownActorModule} when `module` is named and none of `modules` has its name. */
  constructor(
    private readonly actor: string,
    private readonly module: string | undefined,
    modules: readonly ModuleDef[],
  ) {
    const own = module === undefined ? undefined : modules.find((m) => m.name === module);
    if (module !== undefined && own === undefined) throw new UnknownActorModule(actor, module, modules);
    const publishes = own?.events?.publishes;
    this.declared = publishes ? eventTypes(publishes) : [];
    this.allowed = new Set([...this.declared, ESCALATED]);
  }

  /** Throws {@link UndeclaredEvent} for a type the actor does not declare. */
  check(type: string): void {
    if (!this.allowed.has(type)) throw new UndeclaredEvent(this.actor, type, this.module, this.declared);
  }
}
