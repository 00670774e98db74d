import type { z } from "zod";
import type { Clock } from "../src/kernel/clock";
import { WrongTenant } from "../src/kernel/durable/erase";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { TenantErased } from "../src/kernel/durable/tombstone";
import { versionMatches } from "../src/kernel/http/if-match";
import type { ModuleDef } from "../src/kernel/modules/types";
import type { Sleeper } from "../src/kernel/resilience/sleep";
import { BulkheadLeases } from "../src/modules/webhooks/bulkhead-leases";
import { endpointActor, RegistryRpc, type SealedSecret } from "../src/modules/webhooks/contract";
import { disabledAfter, heldByPlatform, hostOf } from "../src/modules/webhooks/domain";
import {
  configOf,
  deleteEndpoint,
  disableEndpoint,
  ENDPOINTS_SCHEMA,
  insertEndpoint,
  rotateSecrets,
  storeReads,
  storeResealed,
  swapSealed,
  updateEndpoint,
  viewOf,
} from "../src/modules/webhooks/endpoints-table";
import { manifest } from "../src/modules/webhooks/manifest";
import { type CheckedEndpoint, fanOut, testMessage } from "../src/modules/webhooks/message";
import { deliveryPolicy } from "../src/modules/webhooks/policy";
import { filterReads, readRulesOf, readsAfterWrite } from "../src/modules/webhooks/reads";
import { isReached, markUnreached, mayHoldAnything, reach } from "../src/modules/webhooks/unreached";
import { ERASING_KEY, PURGE, PURGE_AGAIN_MS, RegistryKept, Timer } from "./webhook-registry/kept";

type Rpc = typeof RegistryRpc;

/** Endpoints one tenant may register. */
export const MAX_ENDPOINTS = 50;

/**
 * The WebhookRegistry actor class, one per tenant: the single writer of the
 * tenant's endpoints, the fan-out of its events, and its delivery bulkhead.
 * `modules` are the deploy's: who may follow which of their events decides what
 * each endpoint is sent (src/modules/webhooks/reads.ts).
 * See src/modules/webhooks/contract.ts and docs/webhooks.md.
 */
export function webhookRegistryObject(platform: { clock: Clock; sleeper?: Sleeper; modules: readonly ModuleDef[] }) {
  const reading = readRulesOf(platform.modules);
  return class WebhookRegistry extends RegistryKept implements RpcServer<Rpc> {
    private readonly bulkhead = new BulkheadLeases(platform.sleeper);

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "WebhookRegistry",
        schema: ENDPOINTS_SCHEMA,
        timerMessage: Timer,
        module: manifest.name,
        modules: platform.modules,
        clock: platform.clock,
      });
    }

    create(input: RpcArgs<Rpc, "create">): Promise<RpcReply<Rpc, "create">> {
      this.refuseClosed();
      return this.receive("create", () => {
        const { ctx, tenant_id, endpoint } = rpcArgs(RegistryRpc, "create", input);
        const tenantId = this.bindTenant(tenant_id);
        if (this.all().size >= MAX_ENDPOINTS)
          return { ok: false as const, error: "limit_reached" as const, limit: MAX_ENDPOINTS };
        const secrets = [{ sealed: endpoint.sealed_secret, expires_at: null }];
        insertEndpoint(this.ctx.storage.sql, endpoint, secrets, ctx.now);
        markUnreached(this.ctx.storage.kv, endpoint.id);
        this.record(ctx, tenantId, endpoint.id, {
          type: "webhooks.endpoint.created",
          data: { endpoint_id: endpoint.id, host: hostOf(endpoint.url), events: endpoint.events },
        });
        return { ok: true as const, endpoint: viewOf(this.reload(endpoint.id)) };
      });
    }

    beginErasure(input: RpcArgs<Rpc, "beginErasure">): RpcReply<Rpc, "beginErasure"> {
      const { tenant_id } = rpcArgs(RegistryRpc, "beginErasure", input);
      if (![null, tenant_id].includes(this.boundTenant())) throw new WrongTenant("WebhookRegistry");
      // Written even for a tenant that never bound it: a create racing the erasure must find it.
      if (this.erased()) return { removed: [] };
      this.ctx.storage.kv.put(ERASING_KEY, true);
      // Its timers go with it at eraseAll: a purge still pending would then never run.
      if (this.boundTenant() === null) return { removed: [] };
      return { removed: this.pendingTimerKeys(PURGE).map((key) => key.slice(PURGE.length)) };
    }

    list(input: RpcArgs<Rpc, "list">): RpcReply<Rpc, "list"> {
      const { limit, cursor } = rpcArgs(RegistryRpc, "list", input);
      this.ready();
      const rows = [...this.all().values()]
        .map(viewOf)
        .filter((v) => cursor === null || v.id < cursor)
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, limit + 1);
      const items = rows.slice(0, limit);
      return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
    }

    get(input: RpcArgs<Rpc, "get">): RpcReply<Rpc, "get"> {
      const { id } = rpcArgs(RegistryRpc, "get", input);
      this.ready();
      const endpoint = this.all().get(id);
      return endpoint ? { endpoint: viewOf(endpoint), reached: isReached(this.ctx.storage.kv, id) } : null;
    }

    update(input: RpcArgs<Rpc, "update">): Promise<RpcReply<Rpc, "update">> {
      this.refuseClosed();
      return this.receive("update", () => {
        const { ctx, tenant_id, id, patch, expected_version, platform_disable } = rpcArgs(RegistryRpc, "update", input);
        const tenantId = this.bindTenant(tenant_id);
        const current = this.all().get(id);
        if (!current) return { ok: false as const, error: "not_found" as const };
        if (!versionMatches(expected_version, current.view.version)) {
          return { ok: false as const, error: "version_conflict" as const, current_version: current.view.version };
        }
        // Only the platform enables what it disabled: the tenant's re-enable would undo its operator.
        const held = heldByPlatform(current.view, patch.enabled, ctx.actor.kind === "platform");
        if (held) return { ok: false as const, error: "platform_disabled" as const, note: held.note };
        const { reads, ...change } = patch;
        const next = { ...current.view, ...change };
        const disabled = disabledAfter(current.view, patch.enabled, platform_disable);
        const checked = reads
          ? readsAfterWrite(reads.needed, reads.granted, current.reads ?? filterReads(current.view.events, reading))
          : current.reads;
        updateEndpoint(this.ctx.storage.sql, id, { ...next, reads: checked }, disabled, ctx.now);
        this.record(ctx, tenantId, id, {
          type: "webhooks.endpoint.updated",
          // Why it is disabled after the change, as the endpoint says it: subscribers (and the
          // audit entry's detail, for the platform's disabling) read the operator's reason there.
          data: { endpoint_id: id, host: hostOf(next.url), events: next.events, enabled: next.enabled, ...disabled },
          ...(platform_disable ? { audit: { ...disabled } } : {}),
        });
        this.schedule({ kind: "push", id }, this.now(), { key: `push:${id}` });
        return { ok: true as const, endpoint: viewOf(this.reload(id)) };
      });
    }

    rotate(input: RpcArgs<Rpc, "rotate">): Promise<RpcReply<Rpc, "rotate">> {
      this.refuseClosed();
      return this.receive("rotate", () => {
        const { ctx, tenant_id, id, sealed_secret, keep_previous_ms } = rpcArgs(RegistryRpc, "rotate", input);
        const tenantId = this.bindTenant(tenant_id);
        const current = this.all().get(id);
        if (!current) return { ok: false as const, error: "not_found" as const };
        const now = this.now();
        // The newest secret signs from now on; the one it replaces stays valid for a while, so
        // receivers can switch over. Any older one is dropped: at most two signatures are sent.
        const previous = current.secrets[0];
        const secrets: z.infer<typeof SealedSecret>[] = [{ sealed: sealed_secret, expires_at: null }];
        if (previous) secrets.push({ sealed: previous.sealed, expires_at: now + keep_previous_ms });
        rotateSecrets(this.ctx.storage.sql, id, secrets, ctx.now);
        this.record(ctx, tenantId, id, { type: "webhooks.endpoint.secret_rotated", data: { endpoint_id: id } });
        this.schedule({ kind: "push", id }, now, { key: `push:${id}` });
        return { ok: true as const, endpoint: viewOf(this.reload(id)) };
      });
    }

    remove(input: RpcArgs<Rpc, "remove">): Promise<RpcReply<Rpc, "remove">> {
      this.refuseClosed();
      return this.receive("remove", () => {
        const { ctx, tenant_id, id, expected_version } = rpcArgs(RegistryRpc, "remove", input);
        const tenantId = this.bindTenant(tenant_id);
        const current = this.all().get(id);
        if (!current) return { ok: false as const, error: "not_found" as const };
        if (!versionMatches(expected_version, current.view.version)) {
          return { ok: false as const, error: "version_conflict" as const, current_version: current.view.version };
        }
        deleteEndpoint(this.ctx.storage.sql, id);
        this.forgetEndpoints();
        this.record(ctx, tenantId, id, { type: "webhooks.endpoint.deleted", data: { endpoint_id: id } });
        this.cancel(`push:${id}`);
        if (mayHoldAnything(this.ctx.storage.kv, id))
          this.schedule({ kind: "purge", id }, this.now(), { key: `${PURGE}${id}` });
        return { ok: true as const, version: current.view.version + 1 };
      });
    }

    async sendTest(input: RpcArgs<Rpc, "sendTest">): Promise<RpcReply<Rpc, "sendTest">> {
      const { ctx, tenant_id, id, message_id } = rpcArgs(RegistryRpc, "sendTest", input);
      // Its tenant is being erased: the endpoint is as good as gone.
      if (this.closed()) return { ok: false, error: "not_found" };
      this.ready();
      const tenantId = this.bindTenant(tenant_id);
      const endpoint = this.all().get(id);
      if (!endpoint) return { ok: false, error: "not_found" };
      // Queued at a disabled endpoint it would wait, unsent, until someone enabled it: say so instead.
      if (!endpoint.view.enabled) return { ok: false, error: "disabled" };
      reach(this.ctx.storage.kv, id);
      await endpointActor(this.env, tenantId, id).enqueue({
        config: configOf(tenantId, endpoint, this.now()),
        messages: [testMessage(tenantId, message_id, ctx)],
      });
      return { ok: true };
    }

    async dispatch(input: RpcArgs<Rpc, "dispatch">): Promise<RpcReply<Rpc, "dispatch">> {
      const { events } = rpcArgs(RegistryRpc, "dispatch", input);
      const first = events[0]?.tenant_id;
      if (first === undefined) return { routed: 0, held_back: 0 };
      // A batch that checked its tenant before the deletion: routing it would refill erased actors.
      // Refused (before the binding, which the erasure forgot), so the consumer drops the events.
      if (this.closed()) throw new TenantErased("WebhookRegistry");
      // A tenant that never created an endpoint: answered from the key-value store, no tables made.
      if (this.boundTenant() === null) return { routed: 0, held_back: 0 };
      this.ready();
      const tenantId = this.bindTenant(first);
      const { byEndpoint, heldBack } = fanOut(tenantId, events, this.checked(), reading.rules);
      // Each endpoint's messages in one call; a failure retries the whole batch, which the endpoints dedupe by id.
      for (const { endpoint } of byEndpoint.values()) reach(this.ctx.storage.kv, endpoint.view.id);
      await Promise.all(
        [...byEndpoint.values()].map(({ endpoint, messages }) =>
          endpointActor(this.env, tenantId, endpoint.view.id).enqueue({
            config: configOf(tenantId, endpoint, this.now()),
            messages,
          }),
        ),
      );
      return { routed: [...byEndpoint.values()].reduce((n, e) => n + e.messages.length, 0), held_back: heldBack };
    }

    disabled(input: RpcArgs<Rpc, "disabled">): Promise<RpcReply<Rpc, "disabled">> {
      return this.receive("disabled", () => {
        const args = rpcArgs(RegistryRpc, "disabled", input);
        const current = this.all().get(args.id);
        // From storage, not the field: a restarted registry may hear this report before any call that binds it.
        const tenantId = this.boundTenant();
        // A report about a config that has since changed (re-enabled, a new URL) is stale.
        const stale = !current || current.view.version !== args.config_version || !current.view.enabled;
        if (stale || tenantId === null || this.closed()) {
          return { ok: false };
        }
        const now = new Date(this.now()).toISOString();
        disableEndpoint(this.ctx.storage.sql, args.id, args.reason, now);
        this.emit(this.address(tenantId, args.id), {
          type: "webhooks.endpoint.disabled",
          data: {
            endpoint_id: args.id,
            host: hostOf(current.view.url),
            reason: args.reason,
            failures: args.failures,
            failing_since: args.failing_since,
          },
        });
        this.reload(args.id);
        this.schedule({ kind: "push", id: args.id }, this.now(), { key: `push:${args.id}` });
        return { ok: true };
      });
    }

    async acquire(input: RpcArgs<Rpc, "acquire">): Promise<RpcReply<Rpc, "acquire">> {
      rpcArgs(RegistryRpc, "acquire", input);
      return this.bulkhead.acquire(deliveryPolicy(this.env), (p) => this.ctx.waitUntil(p));
    }

    release(input: RpcArgs<Rpc, "release">): RpcReply<Rpc, "release"> {
      const { lease } = rpcArgs(RegistryRpc, "release", input);
      this.bulkhead.release(lease);
      return {};
    }

    sealedSecrets(input: RpcArgs<Rpc, "sealedSecrets">): RpcReply<Rpc, "sealedSecrets"> {
      rpcArgs(RegistryRpc, "sealedSecrets", input);
      // A tenant that never created an endpoint has none: no tables made to say so.
      if (this.boundTenant() === null) return [];
      this.ready();
      return [...this.all().values()].flatMap((e) => {
        const reached = isReached(this.ctx.storage.kv, e.view.id);
        return e.secrets.map((s) => ({ endpoint_id: e.view.id, sealed: s.sealed, reached }));
      });
    }

    /**
     * Swaps in re-sealed secrets, each only while the endpoint still holds the one read: a
     * rotation meanwhile wins. Same secrets, so no new version, no event and no push: each
     * endpoint actor re-seals its own copy (WebhookEndpoint.resealSecrets).
     */
    resealSecrets(input: RpcArgs<Rpc, "resealSecrets">): Promise<RpcReply<Rpc, "resealSecrets">> {
      return this.receive("resealSecrets", () => {
        const { reseals } = rpcArgs(RegistryRpc, "resealSecrets", input);
        let resealed = 0;
        for (const id of new Set(reseals.map((r) => r.endpoint_id))) {
          const endpoint = this.all().get(id);
          if (!endpoint) continue;
          const { secrets, swapped } = swapSealed(
            endpoint.secrets,
            reseals.filter((r) => r.endpoint_id === id),
          );
          if (swapped === 0) continue;
          storeResealed(this.ctx.storage.sql, id, secrets);
          this.reload(id);
          resealed += swapped;
        }
        return { resealed, raced: reseals.length - resealed };
      });
    }

    protected override async onTimer(message: Timer): Promise<void> {
      const tenantId = this.boundTenant();
      if (tenantId === null) return;
      if (message.kind === "purge") {
        const { emptied } = await endpointActor(this.env, tenantId, message.id).purge({});
        // A delivery in flight kept its storage: asked again once it has ended.
        if (!emptied)
          this.transact(() => this.schedule(message, this.now() + PURGE_AGAIN_MS, { key: `${PURGE}${message.id}` }));
        return;
      }
      const endpoint = this.all().get(message.id);
      // Being erased: a push would hand an erased (or about to be) actor the sealed secret again.
      if (!endpoint || this.closed()) return;
      reach(this.ctx.storage.kv, message.id);
      await endpointActor(this.env, tenantId, message.id).configure({
        config: configOf(tenantId, endpoint, this.now()),
      });
    }

    /**
     * Every endpoint with what its filters were checked for. One written before that was recorded
     * is taken as checked for what its filters need under this deploy's rules, recorded now, at its
     * first dispatch: what it received until this deploy keeps coming, and a type a later deploy
     * rules with another permission does not (docs/webhooks.md, "Who may follow which events").
     */
    private checked(): CheckedEndpoint[] {
      return [...this.all().values()].map((endpoint) => {
        if (endpoint.reads !== null) return { ...endpoint, reads: endpoint.reads };
        const recorded = { ...endpoint, reads: filterReads(endpoint.view.events, reading) };
        storeReads(this.ctx.storage.sql, endpoint.view.id, recorded.reads);
        this.all().set(endpoint.view.id, recorded);
        return recorded;
      });
    }
  };
}
