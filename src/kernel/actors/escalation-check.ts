import type { ActorAddress } from "./options";
import type { AggregateKinds } from "./stream-kinds";

/**
 * An actor's escalation address, checked against the aggregate kinds as soon as the actor has
 * one. The pause's `actor.escalated` is emitted as any event is, so an address of an aggregate's
 * kind was refused only at the first pause, and that event lost (logged). The address is the
 * subclass's `escalationAddress()`, read from what its messages stored (its bound tenant, an
 * endpoint's config), null until then, so it cannot be checked at construction: it is checked at
 * the end of each message's and `transact`'s transaction until one gives it, and a refusal throws
 * `StreamOfAggregate` in that transaction, which rolls back (the message that gave the actor its
 * tenant fails, naming the stream). Once an address passed, the object checks no more: a class's
 * stream kind does not change with the tenant.
 */
export class EscalationCheck {
  private passed = false;

  constructor(
    private readonly kinds: AggregateKinds,
    private readonly address: () => ActorAddress | null,
  ) {}

  /** Runs `fn`, then checks the address it may have given the actor (inside the caller's transaction). */
  after<T>(fn: () => T): T {
    const result = fn();
    if (this.passed) return result;
    const address = this.address();
    if (address === null) return result;
    this.kinds.check(address, "escalation");
    this.passed = true;
    return result;
  }
}
