import { systemClock } from "../clock";
import { realSleeper, type Sleeper } from "../resilience/sleep";
import { OutboundFailed, OutboundRefused } from "./errors";
import { addressVerdict, checkUrl, hostOf, isIpLiteral, type OutboundPolicy } from "./policy";
import { ResolveError, type Resolver } from "./resolve";

/** What came back: status, headers, and the body cut at `maxResponseBytes`. */
export type OutboundResponse = {
  status: number;
  headers: Headers;
  /** At most `maxResponseBytes` of the body, UTF-8 decoded (a character cut in half at the limit is dropped). */
  body: string;
  /** Whether the body went on past `maxResponseBytes`. */
  truncated: boolean;
  durationMs: number;
  /** A 3xx response's Location, made absolute. Redirects are reported, never followed. */
  redirected_to?: string;
};

/** The request to send, and its limits. */
export type SafeFetchInit = {
  method?: string;
  headers?: HeadersInit;
  body?: string;
  /** Covers everything: DNS, connecting, waiting, and reading the body. */
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
};

/** The policy and the pieces tests replace. */
export type SafeFetchDeps = {
  policy: OutboundPolicy;
  resolver: Resolver;
  fetch?: typeof fetch;
  /** Milliseconds, for `durationMs`; the system clock (kernel/clock) unless given. */
  now?: () => number;
  /** What `timeoutMs` is counted on: the runtime's timers (realSleeper) unless given; a test's ends it by moving time. */
  sleeper?: Sleeper;
};

const TIMED_OUT = Symbol("timed out");

/**
 * Sends a request to a tenant-supplied URL without letting it reach anything but the
 * public internet. The URL must pass `checkUrl`; a host name is resolved first and the
 * request refused if ANY of its addresses is not public (loopback allowed in
 * development). Redirects are not followed (a 3xx comes back with `redirected_to`), the
 * whole exchange is aborted after `timeoutMs`, and the body is read as a stream and
 * cancelled at `maxResponseBytes`.
 *
 * Residual gap (DNS rebinding): Workers' `fetch` resolves the name again itself and
 * cannot be pinned to the address checked here, so a name with a short TTL can answer
 * a public address to the check and a private one to the connection. In production the
 * request leaves from Cloudflare's edge, where private, loopback and link-local
 * destinations lead to nothing of ours; the gap matters where the Worker runs inside a
 * private network (`wrangler dev`, a self-hosted workerd whose network allows "private").
 *
 * @throws OutboundRefused where the request may not go (not retryable).
 * @throws OutboundFailed on DNS failure, network error, timeout or cancellation (retryable);
 *   `noAnswer` when the fetch itself failed before any answer (see OutboundFailed).
 * @example
 * const res = await safeFetch(endpoint.url, { method: "POST", headers, body, timeoutMs: 15_000, maxResponseBytes: 4096 }, { policy, resolver: dohResolver() });
 * const delivered = res.status >= 200 && res.status < 300;
 */
export async function safeFetch(raw: string, init: SafeFetchInit, deps: SafeFetchDeps): Promise<OutboundResponse> {
  if (!(init.timeoutMs > 0) || !Number.isInteger(init.maxResponseBytes) || init.maxResponseBytes < 0) {
    throw new RangeError("safeFetch needs timeoutMs > 0 and a whole maxResponseBytes >= 0");
  }
  const now = deps.now ?? (() => systemClock.now().getTime());
  // Called as a plain function: workerd throws "Illegal invocation" for fetch called as a method of deps.
  const send = deps.fetch ?? fetch;
  const started = now();

  const check = checkUrl(raw, deps.policy);
  if (!check.ok) throw new OutboundRefused(check.reason);
  const url = check.url;
  const host = hostOf(url);

  const controller = new AbortController();
  // The timeout is a sleep on the injected sleeper, ended (aborted) in `finally` once the exchange is over.
  const timer = new AbortController();
  (deps.sleeper ?? realSleeper).sleep(init.timeoutMs, timer.signal).then(
    () => controller.abort(TIMED_OUT),
    () => undefined,
  );
  const onCallerAbort = () => controller.abort(init.signal?.reason);
  if (init.signal?.aborted) onCallerAbort();
  else init.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const signal = controller.signal;

  let phase: "resolve" | "send" | "read" = "resolve";
  try {
    await checkAddresses(host, deps, signal);
    phase = "send";
    const response = await abortable(
      send(url.href, {
        method: init.method ?? "GET",
        headers: init.headers,
        body: init.body,
        redirect: "manual",
        signal,
      }),
      signal,
      (late) => late.body?.cancel(),
    );
    phase = "read";
    const { text, truncated } = await readLimited(response.body, init.maxResponseBytes, signal);
    const location = response.headers.get("location");
    const redirect = response.status >= 300 && response.status < 400 && location !== null;
    return {
      status: response.status,
      headers: response.headers,
      body: text,
      truncated,
      durationMs: now() - started,
      ...(redirect ? { redirected_to: absolute(location, url) } : {}),
    };
  } catch (error) {
    if (error instanceof OutboundRefused) throw error;
    if (signal.aborted) {
      const message =
        signal.reason === TIMED_OUT ? `no complete response within ${init.timeoutMs} ms` : "request cancelled";
      throw new OutboundFailed(`${host}: ${message}`);
    }
    if (error instanceof ResolveError) throw new OutboundFailed(error.message, { cause: error });
    // Only our own words here: a failure while reading could otherwise carry body text.
    const message = phase === "read" ? "response body could not be read" : "request failed (network error)";
    throw new OutboundFailed(`${host}: ${message}`, { cause: error, noAnswer: phase === "send" });
  } finally {
    timer.abort();
    init.signal?.removeEventListener("abort", onCallerAbort);
  }
}

async function checkAddresses(host: string, deps: SafeFetchDeps, signal: AbortSignal): Promise<void> {
  // checkUrl has judged literal addresses, and lets `localhost` through only in
  // development, where it means loopback (RFC 6761) and no DNS server knows it.
  if (isIpLiteral(host) || host === "localhost") return;
  const addresses = await abortable(deps.resolver.resolve(host), signal);
  for (const address of addresses) {
    const verdict = addressVerdict(address, deps.policy);
    if (verdict !== null) throw new OutboundRefused(`${host} resolves to ${verdict}`);
  }
}

async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  signal: AbortSignal,
): Promise<{ text: string; truncated: boolean }> {
  if (body === null) return { text: "", truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await abortable(reader.read(), signal);
      if (done) break;
      if (size + value.byteLength > max) {
        chunks.push(value.subarray(0, max - size));
        size = max;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
    finished = !truncated;
  } finally {
    // Stop the transfer: the rest of an oversized (or abandoned) body is never wanted.
    // Not awaited, so a source slow to cancel cannot hold the caller.
    if (!finished) void reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // stream: true holds back (here: drops) a multi-byte character cut by the limit.
  return { text: new TextDecoder().decode(bytes, { stream: truncated }), truncated };
}

// Settles with `work`, or rejects as soon as `signal` aborts, for sources that ignore the
// signal. `late` disposes of a result that arrives after the abort.
function abortable<T>(work: Promise<T>, signal: AbortSignal, late?: (value: T) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    void work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) void Promise.resolve(late?.(value)).catch(() => undefined);
        else resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function absolute(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}
