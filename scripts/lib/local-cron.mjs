// The minutely trigger, locally: `wrangler dev` fires no cron by itself, so `npm start`
// fires the Worker's scheduled() handler (wrangler's /cdn-cgi/handler/scheduled) at each
// minute a job is due, as Cloudflare's `* * * * *` trigger would, and prints what ran.

/** Longest wait between two looks at the job list: a job added while running is found within it. */
const MAX_WAIT_MS = 10 * 60_000;
const TICK_CRON = "*+*+*+*+*";

const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);

/**
 * Starts the local ticks against `origin`; returns a function that stops them. `rootKey`
 * is the platform root key, or a function answering the current one.
 * Reads `GET /api/v1/platform/jobs` (with the root key) for the earliest `next_due`,
 * sleeps until then, fires that minute's tick with `time=<ms>`, and prints one line per
 * job that ran in it. Failures print one line and the loop goes on.
 */
export function startLocalCron({ origin, rootKey, print = (line) => console.log(line) }) {
  // A function when the key can change while running (npm start rereads an edited .dev.vars).
  const keyOf = typeof rootKey === "function" ? rootKey : () => rootKey;
  let stopped = false;
  let wake = () => {};

  const sleep = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      // Never what keeps the process alive: Ctrl-C ends wrangler, and with it `npm start`.
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function jobs() {
    const res = await fetch(`${origin}/api/v1/platform/jobs`, { headers: { authorization: `Bearer ${keyOf()}` } });
    if (!res.ok) throw new Error(`GET /api/v1/platform/jobs answered ${res.status}`);
    return (await res.json()).items;
  }

  /** Fires the tick of minute `at`, prints what ran in it; resolves to the job list read after it. */
  async function tick(at) {
    const res = await fetch(`${origin}/cdn-cgi/handler/scheduled?cron=${TICK_CRON}&time=${at}`);
    const fired = new Date(at).toISOString();
    const items = await jobs();
    const ran = items.filter((j) => j.last_run?.fire_time === fired && j.last_run.trigger === "cron");
    for (const j of ran) {
      const { outcome, duration_ms, attempts, error } = j.last_run;
      const tries = attempts.length > 1 ? `, ${attempts.length} attempts` : "";
      print(
        `plinth: ${hhmm(at)} UTC ran ${j.module}/${j.job}: ${outcome} in ${duration_ms} ms${tries}${error ? ` (${error})` : ""}`,
      );
    }
    if (!res.ok && ran.length === 0) print(`plinth: ${hhmm(at)} UTC tick failed (${res.status}); see the log above`);
    return items;
  }

  async function loop() {
    let items = null;
    while (!stopped) {
      try {
        items ??= await jobs();
      } catch (error) {
        if (!stopped) print(`plinth: could not read the jobs (${error.message}); trying again in a minute`);
        await sleep(60_000);
        continue;
      }
      const next = Math.min(
        ...items.map((j) => (j.next_due === null ? Number.POSITIVE_INFINITY : Date.parse(j.next_due))),
      );
      const wait = next - Date.now();
      if (wait > 0) {
        await sleep(Math.min(wait, MAX_WAIT_MS));
        if (Date.now() < next) {
          // Looked at again now and then, so a job added or changed while running is found.
          items = null;
          continue;
        }
      }
      if (stopped) return;
      items = await tick(next).catch((error) => {
        if (!stopped) print(`plinth: ${hhmm(next)} UTC tick failed (${error.message})`);
        return null;
      });
    }
  }

  void loop();
  return () => {
    stopped = true;
    wake();
  };
}
