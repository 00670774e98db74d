import type { ServedWorker } from "./worker";

export type Json = Record<string, unknown>;

/**
 * A JSON caller of a served plinth (`serveWorker`), for end-to-end tests:
 * `key` becomes a bearer credential, `body` JSON; the answer's status and
 * parsed body. `worker` is read on each call, so a suite can create it in
 * `beforeAll`.
 *
 * @example
 * const api = servedApi(() => worker);
 * const { status, body } = await api("POST", "/api/v1/platform/tenants", { key: rootKey, body: { slug, name } });
 */
export function servedApi(worker: () => ServedWorker | undefined) {
  return async (
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Json }> => {
    const served = worker();
    if (!served) throw new Error("no worker");
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${served.origin}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
}

/** Polls `check` every `everyMs` until it returns a value, or fails naming `label` after `ms`. */
export async function until<T>(
  label: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
