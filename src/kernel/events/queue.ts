import { z } from "zod";
import { loadConfig } from "../config";
import { newId } from "../crypto";
import { createLogger, errorFields, type Logger } from "../log";
import type { EventMessage, EventSubscriber, ModuleDef, ModuleRuntime } from "../modules/types";

/** The minimal shape every event on the queue has; the rest is the event's own. */
const EventEnvelope = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  tenant_id: z.string().min(1).max(200),
});

/**
 * How long a processed event id is remembered: Queues keep a message at most
 * 14 days, so no redelivery can arrive later than that; one more day of margin.
 */
export const PROCESSED_RETENTION_DAYS = 15;

/** Forgets processed event ids older than {@link PROCESSED_RETENTION_DAYS}; returns how many. */
export async function purgeProcessedEvents(env: Env, now: Date = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - PROCESSED_RETENTION_DAYS * 86_400_000).toISOString();
  const result = await env.DB.prepare("delete from processed_events where processed_at < ?").bind(cutoff).run();
  return result.meta.changes ?? 0;
}

/** Exponential backoff for a message's next attempt: 2, 4, 8 … 300 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 ** Math.max(attempts, 1), 300);
}

async function storeDeadLetter(env: Env, queue: string, message: Message<unknown>, reason: string): Promise<void> {
  const body = message.body as Partial<EventMessage> | null;
  await env.DB.prepare(
    `insert into dead_letters (id, queue, message_id, event_type, tenant_id, body, attempts, received_at)
     values (?, ?, ?, ?, ?, ?, ?, ?) on conflict(message_id) do nothing`,
  )
    .bind(
      newId(),
      queue,
      message.id,
      typeof body?.type === "string" ? body.type : null,
      typeof body?.tenant_id === "string" ? body.tenant_id : null,
      JSON.stringify({ reason, body: message.body }),
      message.attempts,
      new Date().toISOString(),
    )
    .run();
}

async function alreadyProcessed(env: Env, consumer: string, eventId: string): Promise<boolean> {
  const row = await env.DB.prepare("select 1 as seen from processed_events where consumer = ? and event_id = ?")
    .bind(consumer, eventId)
    .first<{ seen: number }>();
  return row !== null;
}

async function markProcessed(env: Env, consumer: string, eventId: string): Promise<void> {
  await env.DB.prepare(
    "insert into processed_events (consumer, event_id, processed_at) values (?, ?, ?) on conflict do nothing",
  )
    .bind(consumer, eventId, new Date().toISOString())
    .run();
}

/**
 * Builds the Worker's `queue()` handler. Each message is parsed with zod and
 * acked or retried on its own: handled → ack; a subscriber threw → retry with
 * backoff (after the queue's max_retries it moves to the dead-letter queue);
 * malformed → stored as a dead letter at once. Batches from a `*-dlq` queue
 * are stored in D1 `dead_letters`, so nothing is dropped. Each subscriber's
 * handled event ids are recorded in D1 `processed_events` and skipped on
 * redelivery; a crash between a subscriber's effect and that record repeats
 * the effect once, so effects must still tolerate a repeat (projections do,
 * by version). A subscriber registered under `"*"` receives every event
 * type, after the type's own subscribers.
 */
export function createQueueHandler(modules: readonly ModuleDef[]) {
  // `consumer` keys the idempotency ledger: one per subscription, so a module that
  // subscribes to a type and to "*" has each handler recorded on its own.
  const routes = new Map<string, { module: string; consumer: string; handle: EventSubscriber }[]>();
  for (const m of modules) {
    for (const [type, handle] of Object.entries(m.events?.subscribes ?? {})) {
      const consumer = type === "*" ? `${m.name}:*` : m.name;
      routes.set(type, [...(routes.get(type) ?? []), { module: m.name, consumer, handle }]);
    }
  }

  return async (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> => {
    const result = loadConfig(env);
    const log: Logger = createLogger(result.ok ? result.config.logLevel : "info", { queue: batch.queue });
    if (!result.ok) {
      log.error("config invalid; retrying batch", { variables: result.issues.map((i) => i.variable) });
      batch.retryAll({ delaySeconds: 60 });
      return;
    }
    const runtime: ModuleRuntime = { env, config: result.config, log, waitUntil: (p) => ctx.waitUntil(p) };
    const isDeadLetterQueue = batch.queue.endsWith("-dlq");

    for (const message of batch.messages) {
      const mlog = log.child({ message_id: message.id, attempts: message.attempts });
      try {
        if (isDeadLetterQueue) {
          await storeDeadLetter(env, batch.queue, message, "retries exhausted");
          mlog.warn("dead letter stored");
          message.ack();
          continue;
        }
        const parsed = EventEnvelope.safeParse(message.body);
        if (!parsed.success) {
          await storeDeadLetter(env, batch.queue, message, "malformed event");
          mlog.error("malformed event stored as dead letter", {
            issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
          });
          message.ack();
          continue;
        }
        const event = parsed.data as EventMessage;
        for (const sub of [...(routes.get(event.type) ?? []), ...(routes.get("*") ?? [])]) {
          // Idempotent per consumer: an event id a subscriber has handled is skipped on redelivery.
          if (await alreadyProcessed(env, sub.consumer, event.id)) continue;
          await sub.handle(event, { ...runtime, log: mlog.child({ subscriber: sub.module, event_type: event.type }) });
          await markProcessed(env, sub.consumer, event.id);
        }
        message.ack();
      } catch (error) {
        const delaySeconds = retryDelaySeconds(message.attempts);
        mlog.error("message failed; will retry", { delay_s: delaySeconds, ...errorFields(error) });
        message.retry({ delaySeconds });
      }
    }
  };
}
