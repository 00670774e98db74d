import { loadConfig } from "../config";
import { createLogger, errorFields, type Logger } from "../log";
import type { ModuleRuntime, PlatformParts, Subscription } from "../modules/types";
import { MalformedEvent, parseEnvelope } from "./envelope";
import { deadLetterStore, processedLedger } from "./ledger";

/** Exponential backoff for a message's next attempt: 2, 4, 8 … 300 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 ** Math.max(attempts, 1), 300);
}

/** Whether storing a dead letter worked; if not, the message is retried rather than lost. */
async function stored(store: () => Promise<void>): Promise<boolean> {
  try {
    await store();
    return true;
  } catch {
    return false;
  }
}

interface Route {
  module: string;
  /** Keys the idempotency ledger: one per subscription. */
  consumer: string;
  subscription: Subscription;
}

/**
 * Builds the Worker's `queue()` handler. Each message is parsed as an
 * envelope and acked or retried on its own: handled → ack; a subscriber threw
 * → retry with backoff (after the queue's max_retries it moves to the
 * dead-letter queue); a malformed envelope, or data its publisher's schema
 * refuses → stored as a dead letter at once, since retrying cannot fix it.
 * Batches from a `*-dlq` queue are stored in D1 `dead_letters`, so nothing is
 * dropped. Each subscription's handled event ids are recorded in D1
 * `processed_events` and skipped on redelivery; a crash between a
 * subscriber's effect and that record repeats the effect once, so effects
 * must still tolerate a repeat (projections do, by version). `"*"`
 * subscriptions run after the type's own.
 */
export function createQueueHandler({ modules, bindings, clock }: PlatformParts) {
  const byType = new Map<string, Route[]>();
  const everything: Route[] = [];
  for (const m of modules) {
    for (const subscription of m.events?.subscribes ?? []) {
      const route = { module: m.name, consumer: `${m.name}:${subscription.name}`, subscription };
      if (subscription.types === "*") everything.push(route);
      else for (const type of subscription.types) byType.set(type, [...(byType.get(type) ?? []), route]);
    }
  }

  return async (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> => {
    const result = loadConfig(env, bindings);
    const log: Logger = createLogger(result.ok ? result.config.logLevel : "info", { queue: batch.queue });
    if (!result.ok) {
      log.error("config invalid; retrying batch", { variables: result.issues.map((i) => i.variable) });
      batch.retryAll({ delaySeconds: 60 });
      return;
    }
    const runtime: ModuleRuntime = { env, config: result.config, log, clock, waitUntil: (p) => ctx.waitUntil(p) };
    const ledger = processedLedger(env.DB);
    const dead = deadLetterStore(env.DB);

    for (const message of batch.messages) {
      const mlog = log.child({ message_id: message.id, attempts: message.attempts });
      try {
        if (batch.queue.endsWith("-dlq")) {
          await dead.store(batch.queue, message, "retries exhausted", clock.now());
          mlog.warn("dead letter stored");
          message.ack();
          continue;
        }
        const event = parseEnvelope(message.body);
        for (const route of [...(byType.get(event.type) ?? []), ...everything]) {
          if (await ledger.seen(route.consumer, event.id)) continue;
          const slog = mlog.child({ subscriber: route.consumer, event_type: event.type });
          await route.subscription.handle(event, { ...runtime, log: slog });
          await ledger.mark(route.consumer, event.id, clock.now());
        }
        message.ack();
      } catch (error) {
        if (
          error instanceof MalformedEvent &&
          (await stored(() => dead.store(batch.queue, message, error.message, clock.now())))
        ) {
          mlog.error("malformed event stored as dead letter", { issues: error.issues });
          message.ack();
          continue;
        }
        const delaySeconds = retryDelaySeconds(message.attempts);
        mlog.error("message failed; will retry", { delay_s: delaySeconds, ...errorFields(error) });
        message.retry({ delaySeconds });
      }
    }
  };
}
