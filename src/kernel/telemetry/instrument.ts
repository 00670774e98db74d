/**
 * Instruments the entry's handler and Durable Object classes with
 * @microlabs/otel-cf-workers 1.0.0-rc.52 when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set; returns them untouched otherwise. Only src/index.ts (and the traced
 * tests) import this: the library loads "cloudflare:workers".
 *
 * The library's defects worked around (each where it is handled): the first
 * exporter wins (./exporter.ts), postProcessor is never called
 * (./exporter.ts), per-trace state is never freed and a flush awaits every
 * context's exports of its trace (./processor.ts), queue
 * retry options are dropped (rawBatch in ./index.ts), DO RPC is not traced and
 * breaks under vitest-pool-workers (`object` below), an incoming traceparent
 * is trusted (`acceptTraceContext` below), `fn.bind` on an instrumented
 * binding loses `this` (src/kernel/db/counting.ts), a new env Proxy per
 * invocation misses the config cache (`markOriginalEnv` below), sampling
 * happens after everything is recorded (`sampledFetch` below), a dropped trace
 * is exported empty (./exporter.ts), and the `caches` wrapper throws outside a
 * traced invocation (`instrumentGlobalCache` below).
 */

import type { DurableObject } from "cloudflare:workers";
import { instrument, instrumentDO, type ResolveConfigFn } from "@microlabs/otel-cf-workers";
import { type Context, context, SpanKind } from "@opentelemetry/api";
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { markOriginalEnv } from "../config";
import { type TracingConfig, TracingEnvSchema, tracingConfig } from "../config/tracing";
import { setFlusher, setTracing } from "./active";
import { isolateExporter } from "./exporter";
import { contextOf, inSpan, RAW_BATCH, type TraceCarrier } from "./index";
import { PruningSpanProcessor } from "./processor";

/** The isolate's processor (one, like the exporter: the library keeps the first config's). */
let processor: PruningSpanProcessor | undefined;

/** How many entries (local roots) the isolate's span processor holds in memory (0 when off); see ./processor.ts. */
export const tracesHeld = (): number => processor?.held ?? 0;

/** How many entries (local roots) the isolate's span processor has started recording (0 when off). */
export const tracesRecorded = (): number => processor?.recorded ?? 0;

/**
 * The library's config with `root` deciding traces that start here. A span under a parent
 * follows the parent's decision: the carriers that bring one are plinth's own (a traced
 * request's RPC argument, an event envelope's `trace`), since an incoming request's
 * traceparent is ignored (`acceptTraceContext: false`).
 */
function otelConfig(
  config: TracingConfig,
  env: { GIT_COMMIT?: string; ENVIRONMENT?: string },
  root: Sampler,
): ResolveConfigFn {
  processor ??= new PruningSpanProcessor(isolateExporter(config));
  const held = processor;
  // The queue handler flushes its messages' traces through ./index.ts, which must not import the library.
  setFlusher((traceId) => held.forceFlush(traceId));
  const spanProcessors = processor;
  // Built once, sampler included: the library calls this on every invocation, so it returns the same object.
  const resolved = {
    spanProcessors,
    service: { name: "plinth", version: env.GIT_COMMIT, namespace: env.ENVIRONMENT },
    // A client's traceparent would otherwise become our trace id (acceptRemote only affects sampling; rc.52).
    handlers: { fetch: { acceptTraceContext: false } },
    sampling: { headSampler: new ParentBasedSampler({ root }) },
    // Our own outgoing fetches carry no traceparent to third parties.
    fetch: { includeTraceContext: false },
    // Its Cache API wrapper throws outside a traced invocation (no config), as an unsampled request is.
    instrumentation: { instrumentGlobalCache: false },
  };
  return () => resolved;
}

/**
 * What a traced object keeps from its constructor, keyed by the raw object:
 * the context the library's constructor wrapper ran in (it holds the config
 * the library's tracer needs). The object stores itself under RAW_SELF, which
 * reads the same through instrumentDO's Proxy.
 */
const bases = new WeakMap<object, Context>();
const RAW_SELF = Symbol("plinth.otel.raw-self");

function rawSelf(self: object): object | undefined {
  const raw: unknown = Reflect.get(self, RAW_SELF);
  return typeof raw === "object" && raw !== null ? raw : undefined;
}

/** A Durable Object class as plinth writes them (extending DurableObject of "cloudflare:workers"). */
type ObjectClass = new (state: DurableObjectState, env: Env) => DurableObject<Env>;

/**
 * The entry's handler and Durable Object classes, instrumented when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (and valid) in `env`, untouched
 * otherwise. An invalid tracing variable leaves tracing off; the config check
 * then answers every request `config_invalid` naming it. `random` draws each
 * request's sampling decision (tests hand in their own).
 */
export function tracingFor(
  env: { GIT_COMMIT?: unknown; ENVIRONMENT?: unknown },
  { random = Math.random }: { random?: () => number } = {},
) {
  const parsed = TracingEnvSchema.safeParse(env);
  const config = parsed.success ? tracingConfig(parsed.data) : undefined;
  setTracing(config !== undefined);
  const gitCommit = typeof env.GIT_COMMIT === "string" ? env.GIT_COMMIT : undefined;
  const environment = typeof env.ENVIRONMENT === "string" ? env.ENVIRONMENT : undefined;
  const service = { GIT_COMMIT: gitCommit, ENVIRONMENT: environment };
  const resolve = config && {
    ratio: config.ratio,
    // Traces that start in an object, the queue consumer or a cron run: kept by trace id at the ratio.
    started: otelConfig(config, service, new TraceIdRatioBasedSampler(config.ratio)),
    // A request's trace: the entry already chose to keep it (`sampledFetch`), so its root is always kept.
    kept: otelConfig(config, service, new AlwaysOnSampler()),
  };
  return {
    handler<H extends ExportedHandler<Env>>(handler: H): H {
      if (!resolve) return handler;
      const { fetch: rawFetch, ...others } = handler;
      const traced: ExportedHandler<Env> = instrument({ ...others }, resolve.started);
      const { queue, scheduled } = traced;
      if (rawFetch) {
        const tracedFetch = instrument({ fetch: rawFetch }, resolve.kept).fetch;
        if (tracedFetch) traced.fetch = sampledFetch(resolve.ratio, random, marking(tracedFetch), rawFetch);
      }
      if (queue) {
        traced.queue = marking((batch, env, ctx) => {
          // Leaves the runtime's batch where rawBatch() finds it through the library's Proxy.
          Object.defineProperty(batch, RAW_BATCH, { value: batch });
          return queue(batch, env, ctx);
        });
      }
      if (scheduled) traced.scheduled = marking(scheduled);
      // The entry's own type (tests call its fetch directly), with the instrumented functions.
      return Object.assign({ ...handler }, traced);
    },
    /**
     * A Durable Object class, instrumented, with a SERVER span per call of the
     * RPC methods of `contracts` (parented on the caller's context, which
     * {@link rpcClient} appends as a last argument: JS RPC has no headers, and
     * the library, rc.52, neither spans nor propagates RPC calls, only `fetch`).
     */
    object<C extends ObjectClass>(cls: C, name: string, ...contracts: object[]): C {
      if (!resolve) return cls;
      const Base: ObjectClass = cls;
      // vitest-pool-workers 0.15 calls RPC methods as Reflect.get(ctor.prototype, key, instance), past
      // instrumentDO's per-method wrapper: no library config in context ("Config is undefined"), and
      // `this` is the Proxy, which makes every this.method() async. The constructor does run inside
      // the library's context, so it keeps that context and the raw object for the traced methods.
      // Harmless in production, where instrumentDO's Proxy is the caller.
      class Traced extends Base {
        constructor(state: DurableObjectState, env: Env) {
          super(state, env);
          bases.set(this, context.active());
          Object.defineProperty(this, RAW_SELF, { value: this });
        }
      }
      Object.defineProperty(Traced, "name", { value: name });
      tracedRpcServer(
        Traced.prototype,
        name,
        contracts.flatMap((c) => Object.keys(c)),
      );
      // One `as`: instrumentDO types its result as any DO class; it is `cls`, subclassed and wrapped.
      return instrumentDO(Traced, resolve.started) as C;
    },
  };
}

/**
 * The request's sampling decision, made before the library sees it: a kept request runs
 * through the instrumented entry, any other through the handler itself, with no span, no
 * env Proxy and no export at all. The library decides only after recording everything (its
 * head sampler flags the spans, its tail sampler drops them at export; rc.52), so at 0.01 a
 * request cost as much as at 1.0. The spans the handler's code opens follow its decision
 * (./index.ts opens none outside a kept trace), and so do the objects it calls and the
 * events it writes: no carrier leaves an unsampled request.
 */
function sampledFetch(
  ratio: number,
  random: () => number,
  traced: NonNullable<ExportedHandler<Env>["fetch"]>,
  raw: NonNullable<ExportedHandler<Env>["fetch"]>,
): NonNullable<ExportedHandler<Env>["fetch"]> {
  if (ratio >= 1) return traced;
  if (ratio <= 0) return raw;
  return (request, env, ctx) => (random() < ratio ? traced(request, env, ctx) : raw(request, env, ctx));
}

/**
 * An instrumented entry that first marks the runtime's env: the library hands each invocation a
 * new Proxy of it, and the config cache keys by the env behind that (kernel/config `markOriginalEnv`).
 */
function marking<T, R>(entry: (trigger: T, env: Env, ctx: ExecutionContext) => R) {
  return (trigger: T, env: Env, ctx: ExecutionContext): R => {
    markOriginalEnv(env);
    return entry(trigger, env, ctx);
  };
}

function isCarrier(value: unknown): value is TraceCarrier {
  return typeof value === "object" && value !== null && "traceparent" in value && typeof value.traceparent === "string";
}

/** Replaces each RPC method on `proto` by one that runs the original in a SERVER span parented on the caller's carrier. */
function tracedRpcServer(proto: object, object: string, methods: readonly string[]): void {
  for (const method of new Set(methods)) {
    const original: unknown = Reflect.get(proto, method);
    if (typeof original !== "function") continue;
    Object.defineProperty(proto, method, {
      configurable: true,
      writable: true,
      value(this: object, input: unknown, carrier?: unknown) {
        const raw = rawSelf(this);
        const base = raw && bases.get(raw);
        const call = () =>
          inSpan(
            `${object}.${method}`,
            { "rpc.system": "cloudflare_do", "rpc.service": object, "rpc.method": method },
            // No forced flush here: a flush ends every open span of this call's entry (the inline
            // pass and the outbox drain still run). The processor exports the entry (this SERVER
            // span and its children) when its last span ends.
            () => Reflect.apply(original, raw ?? this, [input]),
            { kind: SpanKind.SERVER, parent: contextOf(isCarrier(carrier) ? carrier : undefined) },
          );
        return base ? context.with(base, call) : call();
      },
    });
  }
}
