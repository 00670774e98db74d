/**
 * Load generation: autocannon (programmatic API) against one URL, plus a pre-flight check.
 */
import autocannon from "autocannon";

/** @type {Set<{ stop: () => void }>} autocannon instances in flight, for Ctrl-C. */
const inFlight = new Set();

/** Stop any autocannon run in progress (its callback still fires with partial results). */
export function stopLoad() {
  for (const inst of inFlight) inst.stop();
}

/**
 * @typedef {object} LoadResult
 * @property {number} rps mean requests/s over the run
 * @property {number} p50 latency p50, ms
 * @property {number} p99 latency p99, ms
 * @property {number} total completed requests
 * @property {number} non2xx responses with another status than expected (outside 200-299 unless `expect` names one)
 * @property {number} errors connection errors, including timeouts
 * @property {Record<string, number>} errorKinds error code or message -> count
 * @property {Record<string, number>} statuses count per status code
 */

/**
 * Drive `url` with a fixed number of connections for a fixed time. With `next`, each request
 * takes its path and body from the next call instead (one counter for all connections).
 * @param {{ url: string, method?: string, headers?: Record<string, string>, body?: string,
 *   next?: () => { path: string, body: string }, connections: number, duration: number,
 *   expect?: number, overallRate?: number }} opts duration in seconds; `expect` the one status
 *   every response should have (default: any 2xx); `overallRate` caps requests/s over all connections
 * @returns {Promise<LoadResult>}
 */
export function load({ url, method = "GET", headers, body, next, connections, duration, expect, overallRate }) {
  // autocannon calls setupRequest each time it builds a request; the same object serves all clients.
  const sequence = next ? { requests: [{ setupRequest: (/** @type {object} */ req) => ({ ...req, ...next() }) }] } : {};
  return new Promise((resolve, reject) => {
    const opts = { url, method, headers, body, ...sequence, connections, duration, timeout: 10, overallRate };
    /** @type {Record<string, number>} */
    const errorKinds = {};
    const inst = autocannon(opts, (err, r) => {
      inFlight.delete(inst);
      if (err) return reject(err);
      /** @type {Record<string, number>} */
      const statuses = {};
      for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) {
        statuses[code] = Number(count);
      }
      resolve({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        total: r.requests.total,
        non2xx: expect === undefined ? r.non2xx : r.requests.total - (statuses[String(expect)] ?? 0),
        errors: r.errors,
        errorKinds,
        statuses,
      });
    });
    inst.on("reqError", (/** @type {any} */ e) => {
      const kind = e?.code ?? String(e?.message ?? e).slice(0, 80);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    });
    inFlight.add(inst);
  });
}

/**
 * One request before measuring, so a broken route shows its status and body instead of
 * only a non-2xx count.
 * @param {{ url: string, method?: string, headers?: Record<string, string>, body?: string }} req
 * @returns {Promise<{ ok: boolean, status: number, snippet: string }>}
 */
export async function preflight({ url, method = "GET", headers, body }) {
  try {
    const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { ok: res.ok, status: res.status, snippet: text.slice(0, 300).replace(/\s+/g, " ") };
  } catch (err) {
    return { ok: false, status: 0, snippet: String(err) };
  }
}
