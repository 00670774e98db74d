import { z } from "zod";
import { Actor } from "../src/kernel/actors";
import type { Clock } from "../src/kernel/clock";
import { loadConfig } from "../src/kernel/config";
import { KeyMaterialDestroyed } from "../src/kernel/crypto/envelope";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { createLogger } from "../src/kernel/log";
import { METRICS } from "../src/kernel/metrics/catalog";
import { isolateRecorder } from "../src/kernel/metrics/recorder";
import { dohResolver } from "../src/kernel/outbound";
import {
  type BreakerState,
  breakerAllow,
  breakerRecord,
  breakerStatus,
  initialBreaker,
} from "../src/kernel/resilience/breaker";
import { attemptDelivery } from "../src/modules/webhooks/attempt";
import { type EndpointConfig, EndpointConfigSchema, EndpointRpc, registry } from "../src/modules/webhooks/contract";
import {
  attemptLog,
  clearDeliveries,
  DELIVERIES_SCHEMA,
  type DeliveryRow,
  deliveryView,
  headDelivery,
  insertDelivery,
  isoOrNull,
  pageDeliveries,
  pendingCount,
  pruneLog,
  readDelivery,
  requeueDelivery,
  requeueFailed,
  writeAttempt,
} from "../src/modules/webhooks/deliveries-table";
import {
  type AttemptOutcome,
  disableReason,
  type FailureStreak,
  givenUpFields,
  nextStep,
  noStreak,
  streakAfter,
} from "../src/modules/webhooks/domain";
import { swapSealed } from "../src/modules/webhooks/endpoints-table";
import { deliveryPolicy } from "../src/modules/webhooks/policy";
import { openSecrets } from "../src/modules/webhooks/secrets";

type Rpc = typeof EndpointRpc;

const Timer = z.discriminatedUnion("kind", [
  /** Try the head of the queue. */
  z.object({ kind: z.literal("deliver") }),
  /** Trim the delivery log to the policy's retention. */
  z.object({ kind: z.literal("prune") }),
  /** Tell the registry this endpoint stopped delivering (retried until it hears). */
  z.object({
    kind: z.literal("report"),
    reason: z.enum(["failing", "gone", "secret_unreadable"]),
    failures: z.number().int(),
    failing_since: z.string().nullable(),
    config_version: z.number().int(),
  }),
]);
type Timer = z.infer<typeof Timer>;

const CONFIG = "endpoint.config";
const BREAKER = "endpoint.breaker";
const STREAK = "endpoint.streak";
const POSITION = "endpoint.position";
/** The config version this actor stopped delivering under: an enabling config must be newer. */
const STOPPED = "endpoint.stopped_version";
const DELIVER = "deliver";
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The WebhookEndpoint actor class, one per endpoint (`<tenant>/<endpoint id>`):
 * its messages in arrival order, delivered one at a time (the head is retried
 * until delivered or given up before the next is tried), with Standard
 * Webhooks signatures, the delivery policy's backoff, a circuit breaker, the
 * tenant's bulkhead, and a log. See docs/webhooks.md.
 */
export function webhookEndpointObject(platform: { clock: Clock }) {
  return class WebhookEndpoint extends Actor<Timer> implements RpcServer<Rpc> {
    private readonly logger = createLogger("warn", { component: "webhooks" });

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "WebhookEndpoint",
        schema: DELIVERIES_SCHEMA,
        timerMessage: Timer,
        clock: platform.clock,
      });
    }

    enqueue(input: RpcArgs<Rpc, "enqueue">): Promise<RpcReply<Rpc, "enqueue">> {
      return this.receive("enqueue", () => {
        const { config, messages } = rpcArgs(EndpointRpc, "enqueue", input);
        const current = this.adopt(config);
        const now = this.now();
        let queued = 0;
        for (const m of messages) {
          if (insertDelivery(this.ctx.storage.sql, m, this.nextPosition(), now)) queued += 1;
        }
        if (queued > 0 && current.enabled) this.schedule({ kind: "deliver" }, now, { key: DELIVER, mode: "earliest" });
        if (queued > 0) this.schedule({ kind: "prune" }, now + PRUNE_EVERY_MS, { key: "prune", mode: "earliest" });
        return { queued };
      });
    }

    configure(input: RpcArgs<Rpc, "configure">): Promise<RpcReply<Rpc, "configure">> {
      return this.receive("configure", () => {
        const { config } = rpcArgs(EndpointRpc, "configure", input);
        this.adopt(config);
        return {};
      });
    }

    purge(input: RpcArgs<Rpc, "purge">): Promise<RpcReply<Rpc, "purge">> {
      return this.receive("purge", () => {
        rpcArgs(EndpointRpc, "purge", input);
        clearDeliveries(this.ctx.storage.sql);
        for (const key of [CONFIG, BREAKER, STREAK, STOPPED]) this.ctx.storage.kv.delete(key);
        this.cancel(DELIVER);
        this.cancel("prune");
        return {};
      });
    }

    deliveries(input: RpcArgs<Rpc, "deliveries">): Promise<RpcReply<Rpc, "deliveries">> {
      return this.receive("deliveries", () => {
        const { limit, cursor, status } = rpcArgs(EndpointRpc, "deliveries", input);
        return pageDeliveries(this.ctx.storage.sql, limit, cursor, status ?? null);
      });
    }

    delivery(input: RpcArgs<Rpc, "delivery">): Promise<RpcReply<Rpc, "delivery">> {
      return this.receive("delivery", () => {
        const { id } = rpcArgs(EndpointRpc, "delivery", input);
        const row = readDelivery(this.ctx.storage.sql, id);
        return row ? { ...deliveryView(row), attempt_log: attemptLog(this.ctx.storage.sql, id) } : null;
      });
    }

    redeliver(input: RpcArgs<Rpc, "redeliver">): Promise<RpcReply<Rpc, "redeliver">> {
      return this.receive("redeliver", () => {
        const { id } = rpcArgs(EndpointRpc, "redeliver", input);
        const row = readDelivery(this.ctx.storage.sql, id);
        if (!row) return { ok: false };
        // Sent again as the same message (same webhook-id), at the back of the queue, with a fresh schedule.
        if (row.status !== "pending") requeueDelivery(this.ctx.storage.sql, id, this.nextPosition(), this.now());
        if (this.config()?.enabled) this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
        return { ok: true };
      });
    }

    redeliverFailed(input: RpcArgs<Rpc, "redeliverFailed">): Promise<RpcReply<Rpc, "redeliverFailed">> {
      return this.receive("redeliverFailed", () => {
        const { since, limit } = rpcArgs(EndpointRpc, "redeliverFailed", input);
        const sql = this.ctx.storage.sql;
        const result = requeueFailed(sql, { since, limit, now: this.now() }, () => this.nextPosition());
        if (result.requeued > 0 && this.config()?.enabled) {
          this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
        }
        return result;
      });
    }

    health(input: RpcArgs<Rpc, "health">): Promise<RpcReply<Rpc, "health">> {
      return this.receive("health", () => {
        rpcArgs(EndpointRpc, "health", input);
        const streak = this.streak();
        const pending = pendingCount(this.ctx.storage.sql);
        return {
          breaker: breakerStatus(this.breaker(), this.now(), deliveryPolicy(this.env).breaker),
          failing_since: isoOrNull(streak.since),
          failures: streak.failures,
          pending,
        };
      });
    }

    sealedSecrets(input: RpcArgs<Rpc, "sealedSecrets">): RpcReply<Rpc, "sealedSecrets"> {
      rpcArgs(EndpointRpc, "sealedSecrets", input);
      return this.config()?.secrets.map((s) => s.sealed) ?? [];
    }

    /** Swaps re-sealed secrets into the kept config while it still holds the ones read (see adopt). */
    resealSecrets(input: RpcArgs<Rpc, "resealSecrets">): Promise<RpcReply<Rpc, "resealSecrets">> {
      return this.receive("resealSecrets", () => {
        const { reseals } = rpcArgs(EndpointRpc, "resealSecrets", input);
        const config = this.config();
        const { secrets, swapped } = swapSealed(config?.secrets ?? [], reseals);
        if (config && swapped > 0) this.ctx.storage.kv.put(CONFIG, { ...config, secrets });
        return { resealed: swapped, raced: reseals.length - swapped };
      });
    }

    protected override async onTimer(message: Timer): Promise<void> {
      if (message.kind === "deliver") return this.deliverHead();
      if (message.kind === "prune") return this.prune();
      const config = this.config();
      if (!config) return;
      await registry(this.env, config.tenant_id).disabled({
        id: config.endpoint_id,
        reason: message.reason,
        failures: message.failures,
        failing_since: message.failing_since,
        config_version: message.config_version,
      });
    }

    protected override escalationAddress() {
      const config = this.config();
      return config
        ? { tenantId: config.tenant_id, stream: `${config.tenant_id}/webhook/${config.endpoint_id}` }
        : null;
    }

    /** Tries the oldest pending message once, then schedules what comes next. */
    private async deliverHead(): Promise<void> {
      const config = this.config();
      if (!config?.enabled) return;
      const head = this.head();
      if (!head) return;
      const policy = deliveryPolicy(this.env);
      if ((head.next_attempt_at ?? 0) > this.now()) {
        this.transact(() => this.schedule({ kind: "deliver" }, head.next_attempt_at ?? this.now(), { key: DELIVER }));
        return;
      }
      // The tenant's bulkhead first: a refused permit costs the breaker nothing.
      const tenant = registry(this.env, config.tenant_id);
      const permit = await tenant.acquire({ holder: config.endpoint_id });
      if (!permit.granted) {
        this.transact(() => this.schedule({ kind: "deliver" }, this.now() + permit.retry_in_ms, { key: DELIVER }));
        return;
      }
      let outcome: AttemptOutcome;
      try {
        const decision = breakerAllow(this.breaker(), this.now(), policy.breaker);
        this.ctx.storage.kv.put(BREAKER, decision.state);
        if (!decision.allowed) {
          this.transact(() =>
            this.schedule({ kind: "deliver" }, decision.retryAt ?? this.now() + policy.breaker.coolDownMs, {
              key: DELIVER,
            }),
          );
          return;
        }
        let secrets: string[];
        try {
          secrets = await openSecrets(this.env, this.clock, config, this.now());
        } catch (error) {
          if (!(error instanceof KeyMaterialDestroyed)) throw error;
          this.transact(() => this.stop(config, "secret_unreadable"));
          return;
        }
        outcome = await attemptDelivery(config.url, head, secrets, policy, {
          outbound: { development: this.development() },
          resolver: dohResolver(),
          now: () => this.now(),
        });
      } finally {
        await tenant.release({ lease: permit.lease });
      }
      this.transact(() => this.record(config, head, outcome));
    }

    /** Stores an attempt's outcome, moves the breaker and the streak, and schedules what follows. */
    private record(config: EndpointConfig, head: DeliveryRow, outcome: AttemptOutcome): void {
      const policy = deliveryPolicy(this.env);
      const now = this.now();
      const delivered = outcome.kind === "delivered";
      const firstAttemptAt = head.first_attempt_at ?? now;
      const step = delivered ? null : nextStep({ attempts: head.attempts + 1, firstAttemptAt }, outcome, now, policy);
      writeAttempt(this.ctx.storage.sql, head, outcome, step, now);
      if (step && "giveUp" in step) {
        const fields = givenUpFields(config, { ...head, attempts: head.attempts + 1 }, outcome);
        this.logger.warn("webhook delivery given up", fields);
        isolateRecorder.inc(METRICS.webhookGivenUp, [outcome.kind]);
      }
      this.ctx.storage.kv.put(BREAKER, breakerRecord(this.breaker(), delivered, now, policy.breaker));
      const streak = streakAfter(this.streak(), delivered, now);
      this.ctx.storage.kv.put(STREAK, streak);
      this.measure(head, outcome, now);
      // Stopped only under the config the attempt ran with: an admin who changed the endpoint
      // while it was in flight (a new URL, a rotated secret) gets the new config tried first.
      const current = this.config();
      const reason = current?.version === config.version ? disableReason(streak, outcome, now, policy) : null;
      if (current && reason) {
        this.stop(current, reason);
        return;
      }
      const following = this.head();
      if (following) {
        this.schedule({ kind: "deliver" }, Math.max(following.next_attempt_at ?? now, now), { key: DELIVER });
      }
    }

    /** Stops delivering (kept locally at once) and reports it to the registry, which tells the tenant. */
    private stop(config: EndpointConfig, reason: "failing" | "gone" | "secret_unreadable"): void {
      const streak = this.streak();
      this.ctx.storage.kv.put(CONFIG, { ...config, enabled: false });
      this.ctx.storage.kv.put(STOPPED, config.version);
      this.cancel(DELIVER);
      this.schedule(
        {
          kind: "report",
          reason,
          failures: streak.failures,
          failing_since: isoOrNull(streak.since),
          config_version: config.version,
        },
        this.now(),
        { key: "report" },
      );
      this.logger.warn("webhook endpoint disabled", {
        tenant_id: config.tenant_id,
        endpoint_id: config.endpoint_id,
        reason,
        failures: streak.failures,
      });
    }

    private measure(head: DeliveryRow, outcome: AttemptOutcome, now: number): void {
      const statusClass = "status" in outcome ? `${Math.floor(outcome.status / 100)}xx` : "none";
      isolateRecorder.inc(METRICS.webhookDeliveries, [outcome.kind, statusClass]);
      isolateRecorder.observe(METRICS.webhookLatency, [outcome.kind], outcome.latencyMs / 1000);
      if (outcome.kind === "delivered") {
        isolateRecorder.observe(METRICS.webhookLag, [], Math.max(now - Date.parse(head.occurred_at), 0) / 1000);
      }
    }

    private async prune(): Promise<void> {
      const keep = deliveryPolicy(this.env).logRetention;
      this.transact(() => {
        const kept = pruneLog(this.ctx.storage.sql, keep);
        // Hourly while the log holds anything; a later enqueue sets it again.
        if (kept > 0) this.schedule({ kind: "prune" }, this.now() + PRUNE_EVERY_MS, { key: "prune" });
      });
    }

    /**
     * Keeps the newer of the stored config and `config` (versions only grow).
     * A config that enables a stopped endpoint starts it afresh: breaker
     * closed, streak cleared, the queue's head tried now.
     */
    private adopt(config: EndpointConfig): EndpointConfig {
      const stored = this.config();
      if (stored && stored.version > config.version) return stored;
      let parsed = EndpointConfigSchema.parse(config);
      // Same version, same secrets (a rotation makes a new version); the kept copy may have been
      // re-sealed since (resealSecrets), and a message routed before must not bring the old sealing back.
      if (stored && stored.version === parsed.version) parsed = { ...parsed, secrets: stored.secrets };
      // Messages routed before the registry heard that this actor stopped carry the old,
      // enabled config: only a newer version (an admin enabling it again) starts it.
      const stopped = this.ctx.storage.kv.get<number>(STOPPED);
      if (stopped !== undefined && parsed.version <= stopped) parsed = { ...parsed, enabled: false };
      this.ctx.storage.kv.put(CONFIG, parsed);
      // Enabled again, or pointed at another receiver: its failures so far say nothing about what comes.
      if (stored && parsed.enabled && (!stored.enabled || stored.url !== parsed.url)) {
        this.ctx.storage.kv.put(BREAKER, initialBreaker());
        this.ctx.storage.kv.put(STREAK, noStreak());
      }
      if (!parsed.enabled) this.cancel(DELIVER);
      else if (this.head()) this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
      return parsed;
    }

    private development(): boolean {
      const loaded = loadConfig(this.env);
      return loaded.ok && (loaded.config.environment === "development" || loaded.config.environment === "test");
    }

    private config(): EndpointConfig | null {
      return this.ctx.storage.kv.get<EndpointConfig>(CONFIG) ?? null;
    }

    private breaker(): BreakerState {
      return this.ctx.storage.kv.get<BreakerState>(BREAKER) ?? initialBreaker();
    }

    private streak(): FailureStreak {
      return this.ctx.storage.kv.get<FailureStreak>(STREAK) ?? noStreak();
    }

    private head(): DeliveryRow | undefined {
      return headDelivery(this.ctx.storage.sql);
    }

    private nextPosition(): number {
      const next = (this.ctx.storage.kv.get<number>(POSITION) ?? 0) + 1;
      this.ctx.storage.kv.put(POSITION, next);
      return next;
    }
  };
}
