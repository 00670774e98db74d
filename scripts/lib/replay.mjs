// `plinth events replay`: drives POST /api/v1/platform/events/replay page by
// page and prints progress. The root key comes from PLATFORM_ROOT_KEY, or, for
// a local plinth (npm start), from .dev.vars; never from the command line,
// where it would land in shell history and `ps`.
import { readDevVars } from "./dev-setup.mjs";

/**
 * @param {{ url: string, consumer: string, tenant?: string, rebuild: boolean, limit: number,
 *   rootKey?: string, print?: (line: string) => void, fetchImpl?: typeof fetch }} options
 * @returns {Promise<{ streams: number, events: number, applied: number, calls: number }>}
 */
export async function replay({
  url,
  consumer,
  tenant,
  rebuild,
  limit,
  rootKey,
  print = console.log,
  fetchImpl = fetch,
}) {
  const key = rootKey ?? process.env.PLATFORM_ROOT_KEY ?? (isLocal(url) ? readDevVars().PLATFORM_ROOT_KEY : undefined);
  if (!key) throw new Error("set PLATFORM_ROOT_KEY (the platform root key of the plinth at --url)");
  const total = { streams: 0, events: 0, applied: 0, calls: 0 };
  const started = performance.now();
  /** @type {string | undefined} */
  let after;
  for (;;) {
    const res = await fetchImpl(new URL("/api/v1/platform/events/replay", url), {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ consumer, tenant_id: tenant, after, limit, rebuild }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new Error(
        `replay answered ${res.status}: ${body.detail ?? body.title ?? "no detail"} (after ${after ?? "the start"})`,
      );
    }
    total.calls++;
    total.streams += body.streams;
    total.events += body.events;
    total.applied += body.applied;
    const seconds = (performance.now() - started) / 1000;
    print(
      `${consumer}: ${total.streams} streams, ${total.events} events read, ${total.applied} applied` +
        ` (${Math.round(total.events / Math.max(seconds, 0.001))} events/s)${body.next ? ` … after ${body.next}` : ", done"}`,
    );
    if (!body.next) return total;
    after = body.next;
  }
}

/** Whether `url` is this machine (where .dev.vars belongs). */
function isLocal(url) {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host.endsWith(".localhost");
}
