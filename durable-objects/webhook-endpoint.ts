import type { Clock } from "../src/kernel/clock";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import type { EnvNeeds, ModuleDef } from "../src/kernel/modules/types";
import type { Resolver } from "../src/kernel/outbound";
import { breakerStatus } from "../src/kernel/resilience/breaker";
import { realSleeper, type Sleeper } from "../src/kernel/resilience/sleep";
import { EndpointRpc } from "../src/modules/webhooks/contract";
import {
  attemptLog,
  clearDeliveries,
  DELIVERIES_SCHEMA,
  deliveryView,
  insertDelivery,
  isoOrNull,
  keptTypes,
  pageDeliveries,
  pendingCount,
  readDelivery,
  requeueDelivery,
  requeueFailed,
} from "../src/modules/webhooks/deliveries-table";
import { clearEndpointState, putConfig } from "../src/modules/webhooks/endpoint-state";
import { swapSealed } from "../src/modules/webhooks/endpoints-table";
import { manifest } from "../src/modules/webhooks/manifest";
import { TEST_MESSAGE_TYPE } from "../src/modules/webhooks/message";
import { deliveryPolicy } from "../src/modules/webhooks/policy";
import { endpointActorAddress, redeliveredEvent, redeliveredOneEvent } from "../src/modules/webhooks/redelivery";
import { DELIVER, EndpointDelivery, PRUNE_EVERY_MS, Timer } from "./webhook-endpoint/delivery";

type Rpc = typeof EndpointRpc;

/**
 * The WebhookEndpoint actor class, one per endpoint (`<tenant>/<endpoint id>`):
 * its messages in arrival order, delivered one at a time (the head is retried
 * until delivered or given up before the next is tried), with Standard
 * Webhooks signatures, the delivery policy's backoff, a circuit breaker, the
 * tenant's bulkhead, and a log. See docs/webhooks.md.
 */
export function webhookEndpointObject(platform: {
  clock: Clock;
  resolver: Resolver;
  sleeper?: Sleeper;
  modules: readonly ModuleDef[];
  needs: EnvNeeds;
}) {
  return class WebhookEndpoint extends EndpointDelivery implements RpcServer<Rpc> {
    protected readonly resolver = platform.resolver;
    protected readonly modules = platform.modules;
    protected readonly needs = platform.needs;
    protected readonly sleeper = platform.sleeper ?? realSleeper;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "WebhookEndpoint",
        schema: DELIVERIES_SCHEMA,
        timerMessage: Timer,
        module: manifest.name,
        modules: platform.modules,
        clock: platform.clock,
        // Its failures are its deliveries' (timers): paused, it still keeps what the registry routes
        // to it (refused, the tenant's whole dispatch failed until its events were dead-lettered),
        // answers its delivery log, and takes an operator's re-sealed secrets (`crypto reencrypt`).
        whilePaused: "accept",
      });
    }

    enqueue(input: RpcArgs<Rpc, "enqueue">): Promise<RpcReply<Rpc, "enqueue">> {
      return this.receive("enqueue", () => {
        const { config, messages } = rpcArgs(EndpointRpc, "enqueue", input);
        // Routed before its tenant's erasure reached the registry: dropped, never sent (nor kept).
        if (this.erased()) return { queued: 0 };
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
        // A push that outlived the erasure would bring back the erased tenant's sealed secret.
        if (!this.erased()) this.adopt(config);
        return {};
      });
    }

    async purge(input: RpcArgs<Rpc, "purge">): Promise<RpcReply<Rpc, "purge">> {
      await this.receive("purge", () => {
        rpcArgs(EndpointRpc, "purge", input);
        clearDeliveries(this.ctx.storage.sql);
        clearEndpointState(this.ctx.storage.kv);
        for (const key of [DELIVER, "prune", "report"]) this.cancel(key);
      });
      // Once the clearing committed: the empty tables, schema records and alarm go too, or they
      // would stay, for every endpoint ever deleted, in an object nothing opens again.
      return { emptied: await this.vacate() };
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
        const { ctx, id } = rpcArgs(EndpointRpc, "redeliver", input);
        const row = readDelivery(this.ctx.storage.sql, id);
        if (!row) return { ok: false };
        // Sent again as the same message (same webhook-id), at the back of the queue, with a fresh schedule.
        if (row.status !== "pending") {
          requeueDelivery(this.ctx.storage.sql, id, this.nextPosition(), this.now());
          const config = this.config();
          // In the requeue's transaction, as redeliverFailed records its batch.
          if (config) {
            const one = { endpointId: config.endpoint_id, deliveryId: id, messageId: row.message_id };
            this.emit(
              endpointActorAddress({ tenantId: config.tenant_id, endpointId: config.endpoint_id }),
              redeliveredOneEvent(ctx, one),
            );
          }
        }
        if (this.config()?.enabled) this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
        return { ok: true };
      });
    }

    redeliverFailed(input: RpcArgs<Rpc, "redeliverFailed">): Promise<RpcReply<Rpc, "redeliverFailed">> {
      return this.receive("redeliverFailed", () => {
        const { ctx, since, limit } = rpcArgs(EndpointRpc, "redeliverFailed", input);
        const sql = this.ctx.storage.sql;
        const result = requeueFailed(sql, { since, limit, now: this.now() }, () => this.nextPosition());
        const config = this.config();
        if (result.requeued > 0 && config?.enabled) {
          this.schedule({ kind: "deliver" }, this.now(), { key: DELIVER, mode: "earliest" });
        }
        // In the requeue's transaction, so payloads resent are never missing from the audit log.
        if (result.requeued > 0 && config) {
          const redelivery = {
            tenantId: config.tenant_id,
            endpointId: config.endpoint_id,
            since: isoOrNull(since),
            limit,
            ...result,
          };
          this.emit(endpointActorAddress(redelivery), redeliveredEvent(ctx, redelivery));
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

    keptTypes(input: RpcArgs<Rpc, "keptTypes">): Promise<RpcReply<Rpc, "keptTypes">> {
      return this.receive("keptTypes", () => {
        rpcArgs(EndpointRpc, "keptTypes", input);
        // A test message carries no tenant data: its receiver may be anyone's.
        return keptTypes(this.ctx.storage.sql, TEST_MESSAGE_TYPE);
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
        if (config && swapped > 0) putConfig(this.ctx.storage.kv, { ...config, secrets });
        return { resealed: swapped, raced: reseals.length - swapped };
      });
    }
  };
}
