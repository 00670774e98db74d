// The minutely trigger, locally: `wrangler dev` fires no cron by itself, so `npm start`
// fires the Worker's scheduled() handler (wrangler's /cdn-cgi/handler/scheduled) at each
// minute a job is due, as Cloudflare's `* * * * *` trigger would, and prints what ran.
import { fetchWithin, within } from "./fetch-within.mjs";

/** Longest wait between two looks at the job list: a job added while running is found within it. */
const MAX_WAIT_MS = 10 * 60_000;
const TICK_CRON = "*+*+*+*+*";

/**
 * How long a read of the job list may take (the Worker answers it in milliseconds), and a tick
 * (it runs the due jobs: at most the 15 minutes Cloudflare gives a cron invocation). Without a
 * bound, a hung workerd stopped the local cron for ever, silently.
 */
export const CRON_TIMEOUTS = Object.freeze({ read: "30s", tick: "15m" });

const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);

/** A job that runs every minute (`tenants/erase-deleted`, `tenants/resend-unqueued-mail`). */
const EVERY_MINUTE = "* * * * *";

/** Whether a run's result reports work done: some value that is not 0, false, null or empty. */
const reportsWork = (result) =>
  result !== null &&
  typeof result === "object" &&
  Object.values(result).some(
    (v) => v !== 0 && v !== false && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0),
  );

/**
 * Whether a run is worth a line: any run of a job with a slower cron, and a minute job's run that
 * failed or reports work done. A minute job's quiet success would print a line a minute and
 * bury the lines that matter; what it did is in the Worker's own log lines all the same.
 */
const worthSaying = (j) =>
  j.cron !== EVERY_MINUTE ||
  j.last_run.outcome !== "ok" ||
  j.last_run.result === undefined ||
  reportsWork(j.last_run.result);

/** Whether `job`'s last run is not the one it had in `before` (a list read earlier). */
const isNewRun = (job, before) => {
  const was = before.find((b) => b.module === job.module && b.job === job.job)?.last_run;
  return !was || was.started_at !== job.last_run.started_at || was.fire_time !== job.last_run.fire_time;
};

/**
 * The API refused a read with `503 unavailable`: a migration this build ships is not applied
 * yet (npm start applies one generated while it runs within seconds). Not a failure.
 */
class NotReady extends Error {
  constructor(retryAfter) {
    super("the database is being migrated");
    const seconds = Number(retryAfter);
    /** The server's Retry-After, 5 s when it names none, never above a minute. */
    this.retryMs = Math.min(Number.isFinite(seconds) && retryAfter !== null ? seconds * 1000 : 5_000, 60_000);
  }
}

/** Whether `error` is fetch's own failure to reach the server (refused, reset), not an answer. */
const unreachable = (error) => error instanceof TypeError && error.message === "fetch failed";

/**
 * Starts the local ticks against `origin`; returns a function that stops them. `rootKey`
 * is the platform root key, or a function answering the current one.
 * Reads `GET /api/v1/platform/jobs` (with the root key) for the earliest `next_due`,
 * sleeps until then, fires that minute's tick with `time=<ms>`, and prints one line per
 * job that ran in it (but a minute job's quiet success: {@link worthSaying}). Failures print one line and the loop goes on; a `503 unavailable` (a
 * migration pending) prints one calm line for the spell and reads again after its Retry-After.
 * Nothing listening at `origin` (its workerd ended under a running wrangler dev, which stays
 * up and says nothing) is said once per spell, with what it lost, and `onUnreachable` is
 * called then, so npm start records the local queue's events as owed. While `restarting()`
 * (npm start stopped wrangler dev itself, for a .dev.vars edit, and starts it again) the gap is
 * npm start's own: it says nothing, as npm start says the restart, when it answers again, and
 * replays the queue's events by itself (telling a user to stop and start again was wrong then).
 * Each request is bounded by `timeouts` ({@link CRON_TIMEOUTS}): one not answered within it is a
 * failure as any other (the line names the URL and the bound), and the loop goes on.
 */
export function startLocalCron({
  origin,
  rootKey,
  print = (line) => console.log(line),
  onUnreachable = () => {},
  restarting = () => false,
  timeouts = CRON_TIMEOUTS,
}) {
  const bounds = { read: within(timeouts.read), tick: within(timeouts.tick) };
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
    const res = await fetchWithin(
      `${origin}/api/v1/platform/jobs`,
      { headers: { authorization: `Bearer ${keyOf()}` } },
      bounds.read,
    );
    if (res.status === 503) {
      const problem = await res.json().catch(() => null);
      if (problem?.code === "unavailable") throw new NotReady(res.headers.get("retry-after"));
    }
    if (!res.ok) throw new Error(`GET /api/v1/platform/jobs answered ${res.status}`);
    return (await res.json()).items;
  }

  // Said once per spell of 503s, so a migration applied under `npm start` is one calm line, not an error a tick.
  let waiting = false;
  // Said once per spell of nothing answering: until a read of the jobs succeeds again.
  let gone = false;
  function lost() {
    if (gone || stopped) return;
    gone = true;
    if (restarting()) return onUnreachable();
    print(
      `plinth: nothing answers at ${origin}: unless wrangler dev is starting again, the Worker's runtime (workerd) has ended under it, and the events its local queue held are lost. ` +
        'Stop npm start (Ctrl-C) and run npm start again: it replays them to the audit log and webhooks (docs/operations.md, "What survives a crash").',
    );
    onUnreachable();
  }
  /** How long to wait after `error` before reading the jobs again, having said what it needs to. */
  function pause(error, what) {
    if (unreachable(error)) {
      lost();
      return 60_000;
    }
    if (error instanceof NotReady) {
      if (!waiting && !stopped) print("plinth: the database is being migrated; the jobs wait for it");
      waiting = true;
      return error.retryMs;
    }
    if (!stopped) print(what);
    return 60_000;
  }

  /**
   * Fires the tick of minute `at`, prints what ran in it; resolves to the job list read after it.
   * `before` is the list read before the tick: a run is the tick's when it is a cron run that was
   * not there before, whatever its fire time, so a catch-up (a fire time missed while nothing
   * ticked, e.g. an hourly job's after a restart, run at this tick) is printed too, with the time
   * it fell due.
   */
  async function tick(at, before) {
    const res = await fetchWithin(`${origin}/cdn-cgi/handler/scheduled?cron=${TICK_CRON}&time=${at}`, {}, bounds.tick);
    const items = await jobs();
    gone = false;
    const ran = items.filter(
      (j) => j.last_run?.trigger === "cron" && isNewRun(j, before) && Date.parse(j.last_run.fire_time) <= at,
    );
    for (const j of ran.filter(worthSaying)) {
      const { outcome, duration_ms, attempts, error, fire_time } = j.last_run;
      const tries = attempts.length > 1 ? `, ${attempts.length} attempts` : "";
      const late = Date.parse(fire_time) < at ? ` (catching up the run due at ${hhmm(Date.parse(fire_time))} UTC)` : "";
      print(
        `plinth: ${hhmm(at)} UTC ran ${j.module}/${j.job}${late}: ${outcome} in ${duration_ms} ms${tries}${error ? ` (${error})` : ""}`,
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
        waiting = false;
        gone = false;
      } catch (error) {
        await sleep(pause(error, `plinth: could not read the jobs (${error.message}); trying again in a minute`));
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
      items = await tick(next, items).catch((error) => {
        // The tick ran; only the job list read after it was refused: read it again when the migration is in.
        if (error instanceof NotReady || unreachable(error)) pause(error);
        else if (!stopped) print(`plinth: ${hhmm(next)} UTC tick failed (${error.message})`);
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
