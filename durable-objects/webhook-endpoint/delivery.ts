import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { loadConfig } from "../../src/kernel/config";
import { KeyMaterialDestroyed } from "../../src/kernel/crypto/envelope";
import { createLogger } from "../../src/kernel/log";
import { METRICS } from "../../src/kernel/metrics/catalog";
import { isolateRecorder } from "../../src/kernel/metrics/recorder";
import type { EnvNeeds, ModuleDef } from "../../src/kernel/modules/types";
import type { Resolver } from "../../src/kernel/outbound";
import { breakerAllow, breakerRecord } from "../../src/kernel/resilience/breaker";
import type { Sleeper } from "../../src/kernel/resilience/sleep";
import { attemptDelivery } from "../../src/modules/webhooks/attempt";
import { type EndpointConfig, registry } from "../../src/modules/webhooks/contract";
import {
  type DeliveryRow,
  headDelivery,
  isoOrNull,
  pruneLog,
  readDelivery,
  writeAttempt,
} from "../../src/modules/webhooks/deliveries-table";
import {
  type AttemptOutcome,
  disableReason,
  givenUpFields,
  nextStep,
  streakAfter,
} from "../../src/modules/webhooks/domain";
import {
  adoptConfig,
  markStopped,
  putBreaker,
  putStreak,
  storedBreaker,
  storedConfig,
  storedStreak,
  takePosition,
} from "../../src/modules/webhooks/endpoint-state";
import { deliveryPolicy } from "../../src/modules/webhooks/policy";
import { endpointActorAddress } from "../../src/modules/webhooks/redelivery";
import { openSecrets } from "../../src/modules/webhooks/secrets";

/** The endpoint actor's timer messages. */
export const Timer = z.discriminatedUnion("kind", [
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
export type Timer = z.infer<typeof Timer>;

/** The key of the one pending delivery timer. */
export const DELIVER = "deliver";
/** How often the delivery log is trimmed while it holds anything. */
export const PRUNE_EVERY_MS = 3_600_000;

/**
 * The WebhookEndpoint's delivery loop, the layer its RPC messages
 * (durable-objects/webhook-endpoint.ts) extend: its timers (deliver the head,
 * prune the log, report a stop to the registry), one attempt at a time
 * through the tenant's bulkhead and the circuit breaker, what an attempt's
 * outcome moves (log, breaker, streak, metrics, the next timer), stopping,
 * and the adoption of the config the registry sends.
 */
export abstract class EndpointDelivery extends Actor<Timer> {
  private readonly logger = createLogger("warn", { component: "webhooks" });
  /** The DNS a receiver's host is checked with before each attempt: the platform's (a test's own in tests). */
  protected abstract readonly resolver: Resolver;
  /** What an attempt's timeout is counted on: the platform's sleeper. */
  protected abstract readonly sleeper: Sleeper;
  /** The platform's modules: the one providing tenant seeds opens the signing secrets (kernel/crypto/tenant-envelope.ts). */
  protected abstract readonly modules: readonly ModuleDef[];
  /** The platform's needs: the config the secrets are opened under is loaded with them, as the request path loads it. */
  protected abstract readonly needs: EnvNeeds;

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
    // Not the registry's `<tenant>/webhook/<id>`: the registry numbers that stream's versions.
    return config ? endpointActorAddress({ tenantId: config.tenant_id, endpointId: config.endpoint_id }) : null;
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
      putBreaker(this.ctx.storage.kv, decision.state);
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
        secrets = await openSecrets(
          { env: this.env, clock: this.clock, modules: this.modules, needs: this.needs },
          config,
          this.now(),
        );
      } catch (error) {
        if (!(error instanceof KeyMaterialDestroyed)) throw error;
        this.transact(() => this.stop(config, "secret_unreadable"))();
        return;
      }
      // The erasure may have landed while this awaited its permit or the secrets, which still open
      // for up to 30 s where an isolate cached the shredded key seed: the tombstone is the last guard.
      if (this.erased()) {
        this.configuredLog().info("webhook delivery dropped: its tenant was erased", {
          tenant_id: config.tenant_id,
          endpoint_id: config.endpoint_id,
          message_id: head.message_id,
        });
        return;
      }
      outcome = await attemptDelivery(config.url, head, secrets, policy, {
        outbound: { development: this.development() },
        resolver: this.resolver,
        now: () => this.now(),
        sleeper: this.sleeper,
      });
    } finally {
      await tenant.release({ lease: permit.lease });
    }
    for (const report of this.transact(() => this.record(config, head, outcome))) report();
  }

  /**
   * Stores an attempt's outcome, moves the breaker and the streak, and schedules what follows;
   * answers what to count and log once that committed (a delivery given up, the endpoint stopped).
   */
  private record(config: EndpointConfig, head: DeliveryRow, outcome: AttemptOutcome): (() => void)[] {
    const reports: (() => void)[] = [];
    const policy = deliveryPolicy(this.env);
    const now = this.now();
    // Purged while the attempt was in flight (its endpoint deleted): nothing of it may come back.
    if (!readDelivery(this.ctx.storage.sql, head.id)) return reports;
    const delivered = outcome.kind === "delivered";
    const firstAttemptAt = head.first_attempt_at ?? now;
    const step = delivered ? null : nextStep({ attempts: head.attempts + 1, firstAttemptAt }, outcome, now, policy);
    writeAttempt(this.ctx.storage.sql, head, outcome, step, now);
    if (step && "giveUp" in step) {
      const fields = givenUpFields(config, { ...head, attempts: head.attempts + 1 }, outcome);
      reports.push(() => {
        this.logger.warn("webhook delivery given up", fields);
        isolateRecorder.inc(METRICS.webhookGivenUp, [outcome.kind]);
      });
    }
    putBreaker(this.ctx.storage.kv, breakerRecord(this.breaker(), delivered, now, policy.breaker));
    const streak = streakAfter(this.streak(), delivered, now);
    putStreak(this.ctx.storage.kv, streak);
    this.measure(head, outcome, now);
    // Stopped only under the config the attempt ran with: an admin who changed the endpoint
    // while it was in flight (a new URL, a rotated secret) gets the new config tried first.
    const current = this.config();
    const reason = current?.version === config.version ? disableReason(streak, outcome, now, policy) : null;
    if (current && reason) {
      reports.push(this.stop(current, reason));
      return reports;
    }
    const following = this.head();
    if (following) {
      this.schedule({ kind: "deliver" }, Math.max(following.next_attempt_at ?? now, now), { key: DELIVER });
    }
    return reports;
  }

  /**
   * Stops delivering (kept locally at once) and reports it to the registry, which tells the tenant.
   * Answers the log line, said once the stop committed: said in its transaction, a stop that rolled
   * back was logged, and its retry logged it again.
   */
  private stop(config: EndpointConfig, reason: "failing" | "gone" | "secret_unreadable"): () => void {
    const streak = this.streak();
    markStopped(this.ctx.storage.kv, config);
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
    return () =>
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
   * Adopts `config` by the registry's rule (endpoint-state.ts); a config that
   * enables a stopped endpoint has the queue's head tried now.
   */
  protected adopt(config: EndpointConfig): EndpointConfig {
    const { config: kept, adopted } = adoptConfig(this.ctx.storage.kv, config);
    if (!adopted) return kept;
    if (!kept.enabled) this.cancel(DELIVER);
    else if (this.head()) this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
    return kept;
  }

  /** A logger at the configured LOG_LEVEL, for the info lines an operator may want (the class logger keeps warnings). */
  private configuredLog() {
    const loaded = loadConfig(this.env, this.needs);
    return createLogger(loaded.ok ? loaded.config.logLevel : "warn", { component: "webhooks" });
  }

  private development(): boolean {
    const loaded = loadConfig(this.env, this.needs);
    return loaded.ok && (loaded.config.environment === "development" || loaded.config.environment === "test");
  }

  protected config(): EndpointConfig | null {
    return storedConfig(this.ctx.storage.kv);
  }

  protected breaker() {
    return storedBreaker(this.ctx.storage.kv);
  }

  protected streak() {
    return storedStreak(this.ctx.storage.kv);
  }

  private head(): DeliveryRow | undefined {
    return headDelivery(this.ctx.storage.sql);
  }

  protected nextPosition(): number {
    return takePosition(this.ctx.storage.kv);
  }
}
