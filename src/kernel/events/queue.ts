import { type Span, SpanKind } from "@opentelemetry/api";
import { deletedTenants, tenantRegistry } from "../auth/tenant-registry";
import { countingD1 } from "../db/counting";
import { errorFields } from "../log";
import { METRICS } from "../metrics/catalog";
import { flushedAfter } from "../metrics/flush";
import type { MetricsRecorder } from "../metrics/recorder";
import { publishedTypes } from "../modules/registry";
import type { ModuleRuntime, PlatformParts } from "../modules/types";
import { loggedWaitUntil } from "../modules/wait-until";
import { batchConfig } from "../queues/batch-config";
import { countDeadLetter } from "../queues/dead-letter-count";
import { stringField } from "../queues/message-fields";
import { retryUnconfigured, sendBackUnconfigured, type Unconfigured } from "../queues/send-back";
import { readModels } from "../read-models";
import { contextOf, flushTrace, rawBatch, startSpan } from "../telemetry";
import { applyRoute, canonicalOrder, consumerStats, routesOf, wants } from "./consume";
import { lastDelivery, SEND_BACK_LINES, storeDeadLetters } from "./dead-letter-queue";
import { deadLetterStore } from "./dead-letters";
import { type Envelope, parseEnvelope } from "./envelope";
import { sweepErased } from "./erased-sweep";
import { processedLedger } from "./ledger";
import { hold, migrationWait } from "./migration-hold";
import { unpack } from "./pack";
import { type Delivered, heldBody, type Pack, retryDelaySeconds, settlers } from "./settle";

// The backoff moved with the settlers; its callers (and tests) still import it from the consumer.
export { retryDelaySeconds };

/**
 * Builds the Worker's `queue()` handler. A batch is consumed as a batch: its
 * messages are parsed, the ledger is read once for all of them, and each
 * subscription gets its events not yet recorded, in canonical order (batch
 * subscriptions commit their writes with their ledger marks in one D1
 * transaction; see consume.ts). Messages are still acked or retried one by
 * one: handled by every subscription → ack; a subscription failed on it →
 * retry with backoff (after the queue's max_retries it moves to the
 * dead-letter queue), while the rest of the batch is acked; a malformed
 * envelope, or data its publisher's schema refuses → stored as a dead letter
 * at once, since retrying cannot fix it. Batches from a `*-dlq` queue are
 * stored in D1 `dead_letters`, so nothing is dropped: one D1 (or the config)
 * refuses on its last delivery there goes back to the events queue instead,
 * since Queues would delete it (dead-letter-queue.ts). A subscription's events
 * are skipped once recorded in D1 `processed_events`; a crash between a
 * one-at-a-time subscriber's effect and its record repeats the effect once,
 * so such effects must tolerate a repeat. `"*"` subscriptions run after the
 * type's own; each gets the event whichever other one failed on it.
 *
 * A message may be a pack of several events (kernel/events/pack.ts); its
 * events join the batch like any others and are settled one by one: a
 * malformed one is stored as a dead letter of its own (`<message id>/<i>`),
 * one that failed goes back to the queue alone (retried, then dead-lettered,
 * on its own), and the pack is acked; if that cannot be done it is retried
 * whole, and its applied events are skipped when it comes back.
 */
export function createQueueHandler({ modules, needs, clock, schema }: PlatformParts) {
  const routes = routesOf(modules);
  const registry = tenantRegistry(modules);
  // The `type` label of plinth_dead_letters_total: a published type by name, anything else as `other`.
  const known = new Set(publishedTypes(modules));

  return async (traced: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> => {
    // With tracing on, `traced` is the library's Proxy, whose retry()/retryAll() drop `delaySeconds` (see rawBatch).
    const batch = rawBatch(traced);
    // Every way out of the batch, an outage's early one included, is followed by the flush.
    await flushedAfter(
      env,
      clock,
      (p) => ctx.waitUntil(p),
      (recorder) => consume(batch, env, ctx, recorder),
    );
  };

  /** Consumes `batch`, each message acked or retried on its own, and counts how each settled in `recorder`. */
  async function consume(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext, recorder: MetricsRecorder) {
    // Under an invalid config the batch waits for the operator's fix, but for the dead-letter
    // queue's last deliveries, which a retry would lose: they go back to the events queue.
    const unconfigured: Unconfigured = { last: [] };
    const loaded = batchConfig(batch, env, needs, (b, log) =>
      retryUnconfigured(b, log, unconfigured, (m) => lastDelivery(b.queue, m)),
    );
    if (!loaded) return sendBackUnconfigured(env.EVENTS, unconfigured, SEND_BACK_LINES);
    const { config, log } = loaded;
    const stats = consumerStats.queue;
    stats.batches++;
    stats.messages += batch.messages.length;
    const DB = countingD1(env.DB, () => stats.d1_round_trips++);
    const runtime: ModuleRuntime = {
      env: { ...env, DB },
      config: config,
      log,
      clock,
      modules,
      // A subscriber's work past the batch: its failure logged, not only the runtime's line.
      waitUntil: loggedWaitUntil((p) => ctx.waitUntil(p), log),
    };
    const letters = deadLetterStore(DB);
    // Every letter is counted as it is stored, once: not by the report, which misses those dismissed before it runs.
    const dead: Pick<typeof letters, "store"> = {
      async store(queue, letter, reason, now) {
        const fresh = await letters.store(queue, letter, reason, now);
        if (fresh) countDeadLetter(recorder, "events", stringField(letter.body, "type"), known);
        return fresh;
      },
    };
    const goneOf = (ids: readonly string[]) => deletedTenants(registry, runtime.env, ids);
    const settled = (outcome: "acked" | "retried" | "dead_lettered") =>
      recorder.inc(METRICS.queueMessages, [batch.queue, outcome]);
    // A message's lines carry the ids of its event when it parsed: the request that caused it, its tenant.
    const logOf = (message: Message<unknown>, event?: Envelope) =>
      log.child({
        message_id: message.id,
        attempts: message.attempts,
        ...(event
          ? { event_id: event.id, event_type: event.type, tenant_id: event.tenant_id, request_id: event.request_id }
          : {}),
      });

    if (batch.queue.endsWith("-dlq")) {
      await storeDeadLetters({ batch, env, log, clock, dead, goneOf, logOf, settled });
      return;
    }

    // The subscriptions' failures by event id, filled in step 2; the settlers read them in step 3.
    const failures = new Map<string, unknown>();
    const failedIn = new Map<string, string>();
    const { settleFailed, storedAlone, settlePack } = settlers({
      batch,
      env,
      dead,
      clock,
      failures,
      failedIn,
      logOf,
      settled,
    });

    // 1. Parse; a malformed message is a dead letter at once (or retried if that cannot be stored).
    const delivered: Delivered[] = [];
    const spans = new Map<Message<unknown>, Span[]>();
    const settle = (message: Message<unknown>, outcome: string) => {
      for (const span of spans.get(message) ?? []) {
        span.setAttribute("plinth.outcome", outcome);
        span.end();
        traces.add(span.spanContext().traceId);
      }
    };
    // The messages' traces are not this invocation's: the library does not flush them by itself.
    const traces = new Set<string>();
    const flushTraces = () => {
      for (const id of traces) flushTrace(id, (p) => ctx.waitUntil(p));
    };
    for (const message of batch.messages) {
      const bodies = unpack(message.body);
      if (!bodies) {
        try {
          delivered.push({ message, events: [parseEnvelope(message.body)] });
        } catch (error) {
          await settleFailed(message, error);
        }
        continue;
      }
      // A pack's malformed event is stored alone and its other events go on; if it cannot be
      // stored, the pack is retried whole (`held`), its applied events skipped when it returns.
      const pack: Pack = { bodies, at: new Map(), held: false };
      const events: Envelope[] = [];
      for (const [i, body] of bodies.entries()) {
        try {
          const event = parseEnvelope(body);
          events.push(event);
          pack.at.set(event.id, i);
        } catch (error) {
          if (!(await storedAlone(message, i, body, error))) pack.held = true;
        }
      }
      delivered.push({ message, events, pack });
    }
    for (const { message, events } of delivered) {
      const opened = events.flatMap((event) => {
        const span = startSpan(
          `queue.message ${event.type}`,
          {
            "event.type": event.type,
            "tenant.id": event.tenant_id,
            "messaging.message.id": message.id,
            "messaging.destination.name": batch.queue,
            "messaging.attempts": message.attempts,
          },
          { kind: SpanKind.CONSUMER, parent: contextOf(event.trace), linkActive: true },
        );
        return span ? [span] : [];
      });
      if (opened.length > 0) spans.set(message, opened);
    }
    const carried = canonicalOrder([...new Map(delivered.flatMap((d) => d.events.map((e) => [e.id, e]))).values()]);
    stats.events += carried.length;

    // 2. Events of deleted tenants are dropped (acked unapplied): one arriving after its
    // tenant's erasure would write back what the erasure removed. Then the ledger, once for
    // the batch, then each subscription's unrecorded events.
    let events: Envelope[];
    let seen: Set<string>;
    try {
      const gone = await goneOf(carried.map((e) => e.tenant_id));
      events = carried.filter((e) => !gone.has(e.tenant_id));
      if (events.length < carried.length) {
        const dropped = carried.filter((e) => gone.has(e.tenant_id));
        log.info("events of deleted tenants dropped", {
          events: dropped.length,
          tenant_ids: [...new Set(dropped.map((e) => e.tenant_id))],
        });
      }
      seen = await processedLedger(readModels(runtime.env)).seenMany(
        routes.map((r) => r.consumer),
        events.map((e) => e.id),
      );
    } catch (error) {
      log.error("tenant registry or processed ledger unreadable; retrying batch", errorFields(error));
      for (const { message } of delivered) {
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        settled("retried");
        settle(message, "retried");
      }
      flushTraces();
      return;
    }
    // Tenants an object refused as erased during this batch (a cached "not deleted" let their
    // events through): the subscriptions still to run skip their events, and this isolate takes
    // them for gone from now on, so a later batch drops their events before any projection
    // writes a row the erasure removed.
    const erased = new Set<string>();
    const skipped = new Map<string, Set<string>>();
    // Tenants some subscription applied an event of in this batch: rows it may have written back.
    const wrote = new Set<string>();
    const refused = new Set<string>();
    const onErased = (e: Envelope) => {
      refused.add(e.id);
      if (erased.has(e.tenant_id)) return;
      erased.add(e.tenant_id);
      registry?.erasedSeen?.(e.tenant_id);
    };
    for (const route of routes) {
      // Each subscription on its own: one that throws does not keep the event from the others (the
      // audit log, webhooks, the stream catalog); its retry is skipped by those that recorded it.
      const mine = events.filter((e) => {
        if (!wants(route, e.type) || seen.has(`${route.consumer}\u0000${e.id}`)) return false;
        if (!erased.has(e.tenant_id)) return true;
        skipped.set(e.tenant_id, (skipped.get(e.tenant_id) ?? new Set()).add(route.consumer));
        return false;
      });
      const failed = await applyRoute(
        route,
        mine,
        { ...runtime, log: log.child({ subscriber: route.consumer }) },
        { fillGaps: true },
        "queue",
        onErased,
      );
      stats.applied += mine.length - failed.size;
      for (const e of mine) if (!failed.has(e.id) && !refused.has(e.id)) wrote.add(e.tenant_id);
      for (const [id, why] of failed) {
        // The first subscription's failure is the one its dead letter keeps.
        if (failures.has(id)) continue;
        failures.set(id, why);
        failedIn.set(id, route.consumer);
      }
    }

    for (const [tenant, subscribers] of skipped)
      log.info("events of an erased tenant skipped", { tenant_id: tenant, subscribers: [...subscribers] });
    await sweepErased(
      [...erased].filter((t) => wrote.has(t)),
      { registry, modules, env: runtime.env, log },
    );

    // 3. Each message on its own; a pack's failed events leave it as messages of their own.
    // A message whose every failure a pending migration explains is held for it (migration-hold.ts).
    const wait = await migrationWait(failures, schema, runtime.env, {
      now: clock.now().getTime(),
      development: config.environment === "development",
      log,
    });
    const waiting = (d: Delivered) =>
      !d.pack?.held &&
      d.events.some((e) => failures.has(e.id)) &&
      d.events.every((e) => !failures.has(e.id) || wait?.explains(failures.get(e.id)));
    const held = wait ? delivered.filter(waiting) : [];
    await hold(
      held.map((d) => ({ message: d.message, body: heldBody(d, failures) })),
      env.EVENTS,
      log,
    );
    for (const { message } of held) {
      settled("retried");
      settle(message, "held");
    }
    for (const { message, events: carried, pack } of delivered) {
      if (held.some((d) => d.message === message)) continue;
      const failed = carried.filter((e) => failures.has(e.id));
      if (failed.length === 0 && !pack?.held) {
        message.ack();
        settled("acked");
        settle(message, "acked");
      } else if (pack) settle(message, await settlePack(message, pack, failed));
      else settle(message, await settleFailed(message, failures.get(carried[0]?.id ?? ""), carried[0]));
    }
    flushTraces();
  }
}
