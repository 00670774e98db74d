/**
 * Tracing (OpenTelemetry over @microlabs/otel-cf-workers 1.0.0-rc.52), OFF
 * unless OTEL_EXPORTER_OTLP_ENDPOINT is set. The entry (src/index.ts) decides
 * once per isolate, at module load, from `env` of "cloudflare:workers": when
 * off, nothing is wrapped and every helper here is a plain call behind one
 * boolean test, so an untraced deployment pays nothing per request.
 *
 * Attributes: tenant.id, plinth.module, plinth.command, event.type, ids and
 * counts; never secrets, bodies, query strings or error messages.
 *
 * The library's defects this module works around (each where it is handled):
 * the first exporter wins (./exporter.ts), postProcessor is never called
 * (./exporter.ts), per-trace state is never freed (./processor.ts), queue
 * retry options are dropped ({@link rawBatch}), DO RPC is not traced and
 * breaks under vitest-pool-workers ({@link tracingFor}'s `object`), and
 * `fn.bind` on an instrumented binding loses `this` (src/kernel/db/counting.ts).
 */

import type { DurableObject } from "cloudflare:workers";
import { exportSpans, instrument, instrumentDO, type ResolveConfigFn } from "@microlabs/otel-cf-workers";
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { type TracingConfig, TracingEnvSchema, tracingConfig } from "../config/tracing";
import { setTracing, tracing } from "./active";
import { isolateExporter } from "./exporter";
import { PruningSpanProcessor } from "./processor";

export { traceFields, tracing } from "./active";

/** W3C trace context as it crosses DO RPC and the event envelope. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** The isolate's processor (one, like the exporter: the library keeps the first config's). */
let processor: PruningSpanProcessor | undefined;

/** How many traces the isolate's span processor holds in memory (0 when off); see ./processor.ts. */
export const tracesHeld = (): number => processor?.held ?? 0;

function otelConfig(config: TracingConfig, env: { GIT_COMMIT?: string; ENVIRONMENT?: string }): ResolveConfigFn {
  processor ??= new PruningSpanProcessor(isolateExporter(config));
  const spanProcessors = processor;
  // Built once: the library calls this on every invocation, so it returns the same object.
  const resolved = {
    spanProcessors,
    service: { name: "plinth", version: env.GIT_COMMIT, namespace: env.ENVIRONMENT },
    // A client's traceparent would otherwise become our trace id (acceptRemote only affects sampling).
    handlers: { fetch: { acceptTraceContext: false } },
    // Ratio by trace id: the Worker, the objects and the queue consumer keep or drop a trace alike.
    sampling: { headSampler: { ratio: config.ratio, acceptRemote: false } },
    // Our own outgoing fetches carry no traceparent to third parties.
    fetch: { includeTraceContext: false },
  };
  return () => resolved;
}

const RAW_BATCH = Symbol("plinth.otel.raw-batch");

function isBatch<T>(value: unknown): value is MessageBatch<T> {
  return typeof value === "object" && value !== null && "messages" in value && "retryAll" in value;
}

/**
 * The runtime's batch behind the library's Proxy; the batch itself when off.
 * The Proxy calls `message.retry()` and `batch.retryAll()` without their
 * arguments (`Reflect.apply(fn, msg, [])`, @microlabs/otel-cf-workers
 * 1.0.0-rc.52), so `delaySeconds` (plinth's backoff) would silently become
 * the queue's default. Ack and retry on this one.
 */
export function rawBatch<T>(batch: MessageBatch<T>): MessageBatch<T> {
  const raw: unknown = Reflect.get(batch, RAW_BATCH);
  return isBatch<T>(raw) ? raw : batch;
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
 * then answers every request `config_invalid` naming it.
 */
export function tracingFor(env: { GIT_COMMIT?: unknown; ENVIRONMENT?: unknown }) {
  const parsed = TracingEnvSchema.safeParse(env);
  const config = parsed.success ? tracingConfig(parsed.data) : undefined;
  setTracing(config !== undefined);
  const gitCommit = typeof env.GIT_COMMIT === "string" ? env.GIT_COMMIT : undefined;
  const environment = typeof env.ENVIRONMENT === "string" ? env.ENVIRONMENT : undefined;
  const resolve = config ? otelConfig(config, { GIT_COMMIT: gitCommit, ENVIRONMENT: environment }) : undefined;
  return {
    handler<H extends ExportedHandler<Env>>(handler: H): H {
      if (!resolve) return handler;
      const traced = instrument({ ...handler }, resolve);
      const queue = traced.queue;
      if (queue) {
        // Leaves the runtime's batch where rawBatch() finds it through the library's Proxy.
        traced.queue = (batch, env, ctx) => {
          Object.defineProperty(batch, RAW_BATCH, { value: batch });
          return queue(batch, env, ctx);
        };
      }
      // The entry's own type (tests call its fetch directly), with the instrumented functions.
      return Object.assign({ ...handler }, traced);
    },
    /**
     * A Durable Object class, instrumented, with a SERVER span per call of the
     * RPC methods of `contracts` (parented on the caller's context, which
     * {@link rpcClient} appends as a last argument: JS RPC has no headers, and
     * the library neither spans nor propagates RPC calls, only `fetch`).
     */
    object<C extends ObjectClass>(cls: C, name: string, ...contracts: object[]): C {
      if (!resolve) return cls;
      const Base: ObjectClass = cls;
      // vitest-pool-workers calls RPC methods as Reflect.get(ctor.prototype, key, instance), past
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
      return instrumentDO(Traced, resolve) as C;
    },
  };
}

const tracer = () => trace.getTracer("plinth");

function fail(span: Span, error: unknown): void {
  // The type only: messages and stacks may quote data.
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute("error.type", error instanceof Error ? error.name : typeof error);
}

/** Starts a span, or undefined when the library has no config in this context. */
function open(name: string, attributes: Attributes, kind: SpanKind, parent: Context, links?: Link[]): Span | undefined {
  try {
    return tracer().startSpan(name, { kind, attributes, links }, parent);
  } catch {
    // Code run outside an instrumented handler (app.request in a test): the library's tracer throws
    // "Config is undefined" before doing anything (also upstream #14/#76). Run untraced.
    return undefined;
  }
}

/**
 * Runs `fn` in a child span of the active one (or of `options.parent`); a plain
 * call when tracing is off. Ends the span when `fn` returns or its promise settles.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => T,
  options: { kind?: SpanKind; parent?: Context } = {},
): T {
  if (!tracing()) return fn(undefined);
  const parent = options.parent ?? context.active();
  const span = open(name, attributes, options.kind ?? SpanKind.INTERNAL, parent);
  if (!span) return fn(undefined);
  return context.with(trace.setSpan(parent, span), () => {
    try {
      const result = fn(span);
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            span.end();
            return value;
          },
          (error: unknown) => {
            fail(span, error);
            span.end();
            throw error;
          },
        ) as T; // the same promise type, settled after the span ends
      }
      span.end();
      return result;
    } catch (error) {
      fail(span, error);
      span.end();
      throw error;
    }
  });
}

/** The active trace context, to carry across DO RPC or in an envelope; undefined when off. */
export function traceCarrier(): TraceCarrier | undefined {
  if (!tracing()) return undefined;
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

/** A context whose parent is the carried one (the active context when there is none). */
export function contextOf(carrier: TraceCarrier | null | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier) : context.active();
}

/** Sets attributes on the active span (the request's root span in the first middleware). */
export function annotate(attributes: Attributes): void {
  if (tracing()) trace.getActiveSpan()?.setAttributes(attributes);
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
            // No forced flush here: exportSpans(traceId) ends every open span of the trace in this
            // isolate (the inline pass and the outbox drain still run). The processor exports a
            // trace when its last span ends.
            () => Reflect.apply(original, raw ?? this, [input]),
            { kind: SpanKind.SERVER, parent: contextOf(isCarrier(carrier) ? carrier : undefined) },
          );
        return base ? context.with(base, call) : call();
      },
    });
  }
}

/** Starts a span the caller ends (for spans that outlive one call); undefined when off. */
export function startSpan(
  name: string,
  attributes: Attributes,
  options: { kind?: SpanKind; parent?: Context; linkActive?: boolean } = {},
): Span | undefined {
  if (!tracing()) return undefined;
  const active = trace.getActiveSpan()?.spanContext();
  const links = options.linkActive && active ? [{ context: active }] : undefined;
  return open(name, attributes, options.kind ?? SpanKind.INTERNAL, options.parent ?? context.active(), links);
}

/** Exports the spans of `traceId` (a trace other than the invocation's own is not flushed by the library). */
export function flushTrace(traceId: string | undefined, waitUntil: (p: Promise<unknown>) => void): void {
  if (tracing() && traceId) waitUntil(exportSpans(traceId));
}

/**
 * A kernel middleware stage in its own span, from its start to its `next()`
 * (what it does after `next()` is not timed): the stages are siblings under
 * the request's span, and the handler runs in the request's context. The
 * middleware itself when tracing is off (decided when the app is built).
 */
// biome-ignore lint/suspicious/noExplicitAny: any Hono env
export function stage<M extends MiddlewareHandler<any>>(name: string, middleware: M): M {
  if (!tracing()) return middleware;
  const traced: M = (async (c, next) => {
    const parent = context.active();
    const span = open(`middleware ${name}`, { "plinth.stage": name }, SpanKind.INTERNAL, parent);
    if (!span) return middleware(c, next);
    let ended = false;
    const close = () => {
      if (!ended) {
        ended = true;
        span.end();
      }
    };
    try {
      return await context.with(trace.setSpan(parent, span), () =>
        middleware(c, () => {
          close();
          return context.with(parent, next);
        }),
      );
    } catch (error) {
      if (!ended) fail(span, error);
      throw error;
    } finally {
      close();
    }
  }) as M; // a middleware with M's parameters
  return traced;
}
