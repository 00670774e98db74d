import { z } from "zod";
import { EscalatedEvent } from "../actors/supervision";
import { AuthzDeniedEvent } from "../auth/deny";
import { ResealedEvent } from "../crypto/resealed-event";
import { DeadLetterEvents } from "../queues/dead-letter-audit";

/**
 * The events the kernel itself publishes: `authz.denied`, one per refused authority decision,
 * and `events.dead_letter.dismissed|replayed` and `mail.dead_letter.dismissed|replayed`, one per
 * dead letter of a tenant acted on; `crypto.resealed`, one per tenant a re-encryption pass
 * re-sealed values of; `actor.escalated`, one per pause of an actor's supervision (any actor's: the
 * base emits it). The registry counts them as published (webhook filters, subscriptions may name them).
 */
export const KernelEvents = z.discriminatedUnion("type", [
  AuthzDeniedEvent,
  ResealedEvent,
  EscalatedEvent,
  ...DeadLetterEvents,
]);
