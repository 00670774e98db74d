/**
 * The workerd suite's guard against DNS queries to the internet: the outbound guard resolves
 * webhook and identity-provider hosts before it connects, and with the platform's default
 * resolver (DNS over HTTPS) a test would send every host it names to cloudflare-dns.com. A
 * suite must neither depend on the network (CI may be offline) nor tell a public resolver
 * what it tests, so the test Worker brings its own resolver (test/worker.ts), and this guard
 * proves it: such a request is answered here, never sent, and the test file that made it
 * fails (test/setup.ts).
 *
 * The tests and the Worker's objects share one isolate, so wrapping `fetch` here sees the
 * objects' requests too. Installed once per isolate: files share it (`isolate: false`).
 */
const DOH_HOSTS = new Set(["cloudflare-dns.com", "mozilla.cloudflare-dns.com", "1.1.1.1", "1.0.0.1", "dns.google"]);

interface Guard {
  /** The names asked of a public resolver since the last `take`. */
  asked: string[];
}

const KEY = Symbol.for("plinth.test.internet-dns-guard");
type Holder = typeof globalThis & { [KEY]?: Guard };

function install(): Guard {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const guard: Guard = { asked: [] };

  const original = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));

    if (DOH_HOSTS.has(url.hostname)) {
      guard.asked.push(`${url.hostname}: ${url.searchParams.get("name") ?? url.pathname}`);
      throw new TypeError(`the test suite sends no DNS query to the internet (${url.hostname})`);
    }
    return original(input, init);
  };
  holder[KEY] = guard;
  return guard;
}

/** Starts counting: wraps `fetch` (once per isolate) and forgets what earlier files asked. */
export function watchInternetDns(): void {
  install().asked.length = 0;
}

/** The queries to a public resolver since {@link watchInternetDns}, emptied. */
export function internetDnsQueries(): string[] {
  const guard = install();
  return guard.asked.splice(0, guard.asked.length);
}
