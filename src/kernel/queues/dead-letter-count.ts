import { METRICS } from "../metrics/catalog";
import type { MetricsRecorder } from "../metrics/recorder";

/** Where a dead letter came from: the events queues or the mail queues. */
export type DeadLetterSource = "events" | "mail";

/**
 * The `type` label of a dead letter: its type when `known` holds it (the event types the
 * platform publishes), `other` when not (an event of a module since removed, a made-up type
 * of a malformed message: the label stays within the catalog's names), `unknown` when the
 * message named none. Without `known` (mail kinds, named by the platform's own code) the
 * type as it is.
 *
 * @example
 * deadLetterType("blog.post.created", new Set(["blog.post.created"])); // "blog.post.created"
 * deadLetterType("gone.thing.happened", new Set(["blog.post.created"])); // "other"
 */
export function deadLetterType(type: string | null, known?: ReadonlySet<string>): string {
  if (type === null) return "unknown";
  return known === undefined || known.has(type) ? type : "other";
}

/**
 * Counts one dead letter in `plinth_dead_letters_total` when its consumer stored it, not
 * when a report finds it: a letter dismissed or replayed within the hour is counted all
 * the same, and a redelivery of a message already stored (the store said so) is not.
 */
export function countDeadLetter(
  recorder: MetricsRecorder,
  source: DeadLetterSource,
  type: string | null,
  known?: ReadonlySet<string>,
): void {
  recorder.inc(METRICS.deadLetters, [source, deadLetterType(type, known)]);
}
