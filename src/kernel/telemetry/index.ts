/**
 * Tracing helpers for kernel and module code: spans, the trace carrier, the
 * raw queue batch. They use @opentelemetry/api only, never the Workers
 * library (which imports "cloudflare:workers" and so cannot load in the Node
 * tests); the entry instruments the Worker and its objects with
 * ./instrument.ts. OFF unless OTEL_EXPORTER_OTLP_ENDPOINT is set, decided once
 * per isolate at module load: then every helper here is a plain call behind
 * one boolean test, so an untraced deployment pays nothing per request.
 *
 * Attributes: tenant.id, plinth.module, plinth.command, event.type, ids and
 * counts; never secrets, bodies, query strings or error messages.
 */
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
import { flushTraceNow, inKeptTrace, tracing } from "./active";

export { traceFields, tracing } from "./active";

/** W3C trace context as it crosses DO RPC and the event envelope. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** Where the entry (./instrument.ts) leaves the runtime's queue batch on it, past the library's Proxy. */
export const RAW_BATCH = Symbol("plinth.otel.raw-batch");

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

const tracer = () => trace.getTracer("plinth");

function fail(span: Span, error: unknown): void {
  // The type only: messages and stacks may quote data.
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute("error.type", error instanceof Error ? error.name : typeof error);
}

/**
 * Starts a span under `parent`, or undefined when `parent` is in no kept trace: a request
 * the entry did not sample runs with no span (./instrument.ts `sampledFetch`), and so does
 * whatever it calls, an object's RPC method among them, which would otherwise start a root
 * trace of its own. Also undefined when the library has no config in this context.
 */
function open(name: string, attributes: Attributes, kind: SpanKind, parent: Context, links?: Link[]): Span | undefined {
  if (!inKeptTrace(trace.getSpanContext(parent))) return undefined;
  try {
    return tracer().startSpan(name, { kind, attributes, links }, parent);
  } catch {
    // Code run outside an instrumented handler (app.request in a test): the library's tracer throws
    // "Config is undefined" before doing anything (@microlabs/otel-cf-workers 1.0.0-rc.52; upstream #14/#76). Run untraced.
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

/**
 * Exports the spans of `traceId` this invocation recorded (a trace other than the invocation's own
 * is not flushed at the invocation's end by @microlabs/otel-cf-workers 1.0.0-rc.52). Call it where
 * the spans were started: the processor flushes only the calling invocation's (./processor.ts).
 */
export function flushTrace(traceId: string | undefined, waitUntil: (p: Promise<unknown>) => void): void {
  if (tracing() && traceId) waitUntil(flushTraceNow(traceId));
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
