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
import { tenantEnvelope } from "../src/modules/identity/key-material";
import { attemptDelivery } from "../src/modules/webhooks/attempt";
import {
  type DeliveryView,
  type EndpointConfig,
  EndpointConfigSchema,
  EndpointRpc,
  registry,
} from "../src/modules/webhooks/contract";
import {
  type AttemptOutcome,
  disableReason,
  type FailureStreak,
  nextStep,
  noStreak,
  streakAfter,
} from "../src/modules/webhooks/domain";
import { deliveryPolicy } from "../src/modules/webhooks/policy";
import { secretField } from "../src/modules/webhooks/secrets";

type Rpc = typeof EndpointRpc;

const SCHEMA: readonly string[][] = [
  [
    `create table deliveries (
       id text primary key,
       message_id text not null unique,
       event_type text not null,
       body text not null,
       occurred_at text not null,
       position integer not null,
       status text not null,
       attempts integer not null default 0,
       first_attempt_at integer,
       next_attempt_at integer,
       response_status integer,
       latency_ms integer,
       last_error text,
       created_at text not null,
       updated_at text not null
     )`,
    "create index deliveries_queue on deliveries (status, position)",
    "create index deliveries_position on deliveries (position)",
    `create table attempts (
       id integer primary key autoincrement,
       delivery_id text not null,
       at text not null,
       outcome text not null,
       response_status integer,
       latency_ms integer not null,
       response text
     )`,
    "create index attempts_delivery on attempts (delivery_id, id)",
  ],
];

interface DeliveryRow extends Record<string, SqlStorageValue> {
  id: string;
  message_id: string;
  event_type: string;
  body: string;
  occurred_at: string;
  position: number;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number | null;
  response_status: number | null;
  latency_ms: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

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
      super(ctx, env, { name: "WebhookEndpoint", schema: SCHEMA, timerMessage: Timer, clock: platform.clock });
    }

    enqueue(input: RpcArgs<Rpc, "enqueue">): Promise<RpcReply<Rpc, "enqueue">> {
      return this.receive("enqueue", () => {
        const { config, messages } = rpcArgs(EndpointRpc, "enqueue", input);
        const current = this.adopt(config);
        const now = this.now();
        const at = new Date(now).toISOString();
        let queued = 0;
        for (const m of messages) {
          const inserted = this.ctx.storage.sql.exec(
            `insert into deliveries (id, message_id, event_type, body, occurred_at, position, status, next_attempt_at, created_at, updated_at)
             values (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) on conflict (message_id) do nothing`,
            crypto.randomUUID(),
            m.message_id,
            m.type,
            m.body,
            m.occurred_at,
            this.nextPosition(),
            now,
            at,
            at,
          ).rowsWritten;
          queued += inserted > 0 ? 1 : 0;
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
        const sql = this.ctx.storage.sql;
        sql.exec("delete from deliveries");
        sql.exec("delete from attempts");
        for (const key of [CONFIG, BREAKER, STREAK, STOPPED]) this.ctx.storage.kv.delete(key);
        this.cancel(DELIVER);
        this.cancel("prune");
        return {};
      });
    }

    deliveries(input: RpcArgs<Rpc, "deliveries">): Promise<RpcReply<Rpc, "deliveries">> {
      return this.receive("deliveries", () => {
        const { limit, cursor, status } = rpcArgs(EndpointRpc, "deliveries", input);
        const before = cursor === null ? Number.MAX_SAFE_INTEGER : Number(cursor);
        const rows = this.ctx.storage.sql
          .exec<DeliveryRow>(
            `select * from deliveries where position < ? and (? is null or status = ?) order by position desc limit ?`,
            Number.isFinite(before) ? before : 0,
            status ?? null,
            status ?? null,
            limit + 1,
          )
          .toArray();
        const items = rows.slice(0, limit);
        const last = items.at(-1);
        return { items: items.map(view), next: rows.length > limit && last ? String(last.position) : null };
      });
    }

    delivery(input: RpcArgs<Rpc, "delivery">): Promise<RpcReply<Rpc, "delivery">> {
      return this.receive("delivery", () => {
        const { id } = rpcArgs(EndpointRpc, "delivery", input);
        const row = this.row(id);
        if (!row) return null;
        const attempts = this.ctx.storage.sql
          .exec<{
            at: string;
            outcome: "delivered" | "rejected" | "unreachable" | "refused";
            response_status: number | null;
            latency_ms: number;
            response: string | null;
          }>(
            "select at, outcome, response_status, latency_ms, response from attempts where delivery_id = ? order by id",
            id,
          )
          .toArray();
        return { ...view(row), attempt_log: attempts };
      });
    }

    redeliver(input: RpcArgs<Rpc, "redeliver">): Promise<RpcReply<Rpc, "redeliver">> {
      return this.receive("redeliver", () => {
        const { id } = rpcArgs(EndpointRpc, "redeliver", input);
        const row = this.row(id);
        if (!row) return { ok: false };
        if (row.status !== "pending") {
          // Sent again as the same message (same webhook-id), at the back of the queue, with a fresh schedule.
          const now = this.now();
          this.ctx.storage.sql.exec(
            `update deliveries set status = 'pending', position = ?, attempts = 0, first_attempt_at = null,
               next_attempt_at = ?, updated_at = ? where id = ?`,
            this.nextPosition(),
            now,
            new Date(now).toISOString(),
            id,
          );
        }
        if (this.config()?.enabled) this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
        return { ok: true };
      });
    }

    health(input: RpcArgs<Rpc, "health">): Promise<RpcReply<Rpc, "health">> {
      return this.receive("health", () => {
        rpcArgs(EndpointRpc, "health", input);
        const streak = this.streak();
        const pending = this.ctx.storage.sql
          .exec<{ n: number }>("select count(*) as n from deliveries where status = 'pending'")
          .one().n;
        return {
          breaker: breakerStatus(this.breaker(), this.now(), deliveryPolicy(this.env).breaker),
          failing_since: iso(streak.since),
          failures: streak.failures,
          pending,
        };
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
          secrets = await this.unseal(config);
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
      const at = new Date(now).toISOString();
      const delivered = outcome.kind === "delivered";
      const sql = this.ctx.storage.sql;
      const status = "status" in outcome ? outcome.status : null;
      const response = "response" in outcome ? outcome.response : outcome.error;
      sql.exec(
        "insert into attempts (delivery_id, at, outcome, response_status, latency_ms, response) values (?, ?, ?, ?, ?, ?)",
        head.id,
        at,
        outcome.kind,
        status,
        outcome.latencyMs,
        response,
      );
      const attempts = head.attempts + 1;
      const firstAttemptAt = head.first_attempt_at ?? now;
      let next: number | null = null;
      let state: DeliveryRow["status"] = "delivered";
      if (!delivered) {
        const step = nextStep({ attempts, firstAttemptAt }, outcome, now, policy);
        if ("retryAt" in step) {
          state = "pending";
          next = step.retryAt;
        } else {
          state = "failed";
        }
      }
      sql.exec(
        `update deliveries set status = ?, attempts = ?, first_attempt_at = ?, next_attempt_at = ?, response_status = ?,
           latency_ms = ?, last_error = ?, updated_at = ? where id = ?`,
        state,
        attempts,
        firstAttemptAt,
        next,
        status,
        outcome.latencyMs,
        delivered ? null : outcome.kind === "rejected" ? `HTTP ${outcome.status}` : outcome.error,
        at,
        head.id,
      );
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
          failing_since: iso(streak.since),
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
        const sql = this.ctx.storage.sql;
        const cutoff = sql
          .exec<{ position: number }>(
            "select position from deliveries where status != 'pending' order by position desc limit 1 offset ?",
            keep,
          )
          .toArray()[0]?.position;
        if (cutoff !== undefined) {
          sql.exec(
            "delete from attempts where delivery_id in (select id from deliveries where status != 'pending' and position <= ?)",
            cutoff,
          );
          sql.exec("delete from deliveries where status != 'pending' and position <= ?", cutoff);
        }
        // Hourly while the log holds anything; a later enqueue sets it again.
        const kept = sql.exec<{ n: number }>("select count(*) as n from deliveries").one().n;
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

    private async unseal(config: EndpointConfig): Promise<string[]> {
      const keys = loadConfig(this.env);
      const encryptionKeys = keys.ok ? keys.config.encryptionKeys : undefined;
      if (!encryptionKeys) throw new Error("ENCRYPTION_KEYS is not configured: webhook secrets cannot be opened");
      const envelope = tenantEnvelope(this.env, encryptionKeys, this.clock);
      // A rotated-out secret stops signing when its overlap ends, even if no newer config has arrived since.
      const now = this.now();
      const live = config.secrets.filter((s) => s.expires_at === null || s.expires_at > now);
      return Promise.all(
        live.map((s) => envelope.decryptText(config.tenant_id, secretField(config.endpoint_id), s.sealed)),
      );
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
      return this.ctx.storage.sql
        .exec<DeliveryRow>("select * from deliveries where status = 'pending' order by position limit 1")
        .toArray()[0];
    }

    private row(id: string): DeliveryRow | undefined {
      return this.ctx.storage.sql.exec<DeliveryRow>("select * from deliveries where id = ?", id).toArray()[0];
    }

    private nextPosition(): number {
      const next = (this.ctx.storage.kv.get<number>(POSITION) ?? 0) + 1;
      this.ctx.storage.kv.put(POSITION, next);
      return next;
    }
  };
}

function view(r: DeliveryRow): DeliveryView {
  return {
    id: r.id,
    message_id: r.message_id,
    event_type: r.event_type,
    status: r.status,
    attempts: r.attempts,
    response_status: r.response_status,
    latency_ms: r.latency_ms,
    last_error: r.last_error,
    next_attempt_at: iso(r.next_attempt_at),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
