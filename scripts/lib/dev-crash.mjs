// npm start's record of its own run, so that the next start knows when the last one did not
// stop cleanly (killed, its terminal closed, the laptop's sleep ending it). Miniflare's queue
// broker holds accepted messages in memory only, so such a stop loses the events it had not
// delivered: the audit log and the webhooks miss them until their subscriptions are replayed
// (docs/operations.md, "What survives a crash"), and nothing else would tell the developer.
// The file is written when the run begins and removed when it ends through process.exit or a
// normal exit (Ctrl-C and SIGTERM go through the supervisor's exit): only a stop that ran no
// code of ours leaves it behind.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { offlineEnv, root } from "./env.mjs";

/** Next to the local state whose queue messages a crash loses (deleting the state forgets it too). */
export const RUN_FILE = join(root, ".wrangler", "state", "plinth-run.json");

/** The queue-fed subscriptions a replay gives back their missed events, and what each restores. */
export const REPLAYS = [
  { consumer: "audit:log", restores: "appends the missing events to the audit chains" },
  { consumer: "webhooks:dispatch", restores: "delivers the missed webhooks, same webhook-id" },
];

/** Writers that keep no event log once an event is sent: a lost message of theirs is gone. */
const UNREPLAYABLE = "the tenant directory's invitations, keys, roles and settings; the file store; webhook endpoints";

/**
 * @typedef {{ pid?: number, port?: number, started_at?: string, owed_since?: string }} RunRecord
 *   `owed_since`: when the earliest run whose lost events were not replayed yet began.
 * @typedef {{ state: "none" } | { state: "running", pid: number, port?: number }
 *   | { state: "unclean", since: string, startedAt: string } | { state: "owed", since: string }} LastRun
 *   `since`: since when events are owed a replay; `startedAt`: when the run that did not stop
 *   cleanly began (earlier than `since` only when an earlier loss was still owed).
 */

/** The record the last run left, or null (none, or unreadable: a half-written file is no run). */
export function readRun(file = RUN_FILE) {
  try {
    const record = JSON.parse(readFileSync(file, "utf8"));
    return typeof record === "object" && record !== null ? record : null;
  } catch {
    return null;
  }
}

/** Whether a process with this id runs (EPERM: it does, under another user). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** The command line of process `pid` as `ps` shows it, or null when ps cannot say. */
function commandOf(/** @type {number} */ pid) {
  try {
    const line = execFileSync("ps", ["-p", String(pid), "-o", "command="], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return line.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Whether the process with this id is an npm start that still runs. A record a crash left
 * before a reboot names a pid that may since belong to another program: taken for a live
 * npm start, it hid the crash and refused every later start. Where `ps` cannot say, a live
 * process counts. `command` injectable for the tests.
 * @param {number} pid @param {(pid: number) => string | null} [command]
 */
export function isNpmStart(pid, command = commandOf) {
  if (!isAlive(pid)) return false;
  const line = command(pid);
  return line === null || /\bstart\.mjs\b/.test(line);
}

/**
 * Why this npm start stops at once: another runs on the same `.wrangler/state`. Two wrangler
 * dev on one state lock each other's Durable Object and D1 databases (SQLITE_BUSY, answered
 * as internal errors by both), so a second one cannot work beside the first.
 * @param {{ pid: number, port?: number }} running
 */
export function anotherStartLines({ pid, port }) {
  const where = port ? ` at http://127.0.0.1:${port}` : "";
  return [
    `plinth: another npm start (pid ${pid}) runs on this checkout's .wrangler/state${where};`,
    "  two wrangler dev on one state lock each other's databases (SQLITE_BUSY, internal errors).",
    `  Use that one, or stop it (Ctrl-C in its terminal, or: kill ${pid}); a second plinth needs a clone of its own.`,
  ];
}

/**
 * What the record says of the last run: none to speak of; still running (another npm start on
 * this state); stopped uncleanly; or stopped cleanly with lost events not yet replayed
 * (`owed`: an earlier crash's, or those of a wrangler dev started again under it), since the
 * first unrecovered loss. Told apart, so that a clean stop is not reported as a kill.
 * @param {RunRecord | null} record @param {(pid: number) => boolean} alive @returns {LastRun}
 */
export function lastRun(record, alive) {
  if (!record) return { state: "none" };
  if (typeof record.pid === "number") {
    if (alive(record.pid)) return { state: "running", pid: record.pid, port: record.port };
    const startedAt = record.started_at ?? "an unknown time";
    return { state: "unclean", since: record.owed_since ?? startedAt, startedAt };
  }
  return record.owed_since ? { state: "owed", since: record.owed_since } : { state: "none" };
}

/** Records this run as begun (with the earlier crash still owed a replay, if any). */
export function beginRun(/** @type {RunRecord} */ record, file = RUN_FILE) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Records this run as stopped cleanly: no record, or only the crash whose replay is still owed. */
export function endRun(/** @type {string | null} */ owedSince, file = RUN_FILE) {
  // A state folder deleted while the run went on (`rm -rf .wrangler/state`) took the events
  // owed with it: nothing to record, and a throw here would end the exit with a stack trace.
  if (owedSince && existsSync(dirname(file))) writeFileSync(file, `${JSON.stringify({ owed_since: owedSince })}\n`);
  else rmSync(file, { force: true });
}

/**
 * Begins tracking this run in `file`: reads what the last run left (see {@link lastRun}), then,
 * unless another npm start still runs on this state, records this one and, at this process's
 * exit, its clean stop. `owe()` says this run lost its queue too (wrangler dev stopped and
 * started again under it); `recovered(debt)` says the replays begun when `debt` was the count
 * of losses ran, so a later clean stop leaves nothing owed unless a loss came since. Ports
 * injectable for the tests.
 * @param {{ port: number, file?: string, pid?: number, now?: () => string,
 *   alive?: (pid: number) => boolean, onExit?: (listener: () => void) => void }} options
 */
export function trackRun({
  port,
  file = RUN_FILE,
  pid = process.pid,
  now = () => new Date().toISOString(),
  alive = isNpmStart,
  onExit = (listener) => process.on("exit", listener),
}) {
  const previous = lastRun(readRun(file), alive);
  const startedAt = now();
  let owedSince = previous.state === "unclean" || previous.state === "owed" ? previous.since : null;
  let debt = owedSince ? 1 : 0;
  const tracking = previous.state !== "running";
  // A record that cannot be written (a read-only .wrangler) costs only the next start's
  // notice: a throw here ended npm start, at its start or later in its callbacks.
  /** @type {string | null} */
  let unwritable = null;
  const record = () => {
    try {
      beginRun({ pid, port, started_at: startedAt, owed_since: owedSince ?? undefined }, file);
    } catch (error) {
      unwritable ??= error instanceof Error ? error.message : String(error);
    }
  };
  if (tracking) {
    record();
    onExit(() => {
      try {
        endRun(owedSince, file);
      } catch {
        // Said at the start already (unwritable).
      }
    });
  }
  return {
    previous,
    /** Why this run's record could not be written, or null. */
    get unwritable() {
      return unwritable;
    },
    /** When the earliest run whose lost events are not replayed yet began, or null. */
    get owedSince() {
      return owedSince;
    },
    /** How many losses this run has heard of: replays begun at this count cover them. */
    get debt() {
      return debt;
    },
    owe() {
      debt++;
      owedSince ??= now();
      if (tracking) record();
    },
    recovered(/** @type {number} */ upTo) {
      if (upTo !== debt) return;
      owedSince = null;
      if (tracking) record();
    },
  };
}

/** The command that replays one subscription on the plinth at `origin`. */
export const replayCommand = (origin, consumer) => `PLINTH_URL=${origin} npx plinth events replay ${consumer}`;

/** The replay commands on `origin`, each with what it gives back, aligned. */
function replayCommandLines(/** @type {string} */ origin) {
  const width = Math.max(...REPLAYS.map((r) => replayCommand(origin, r.consumer).length));
  return REPLAYS.map((r) => `    ${replayCommand(origin, r.consumer).padEnd(width)}  # ${r.restores}`);
}

/**
 * What npm start says when the last run did not stop cleanly, or stopped cleanly with lost
 * events not replayed yet (`cleanly`): what was lost, the commands that give back what can be
 * given back (on this run's URL), what cannot, and whether it runs them itself. `since` is
 * when the owed events began to be lost; `startedAt` when the run that did not stop cleanly
 * began: a kill of a run that already owed replays (an earlier kill's, a wrangler dev
 * restart's) names both, each for what it is.
 * @param {{ since: string, startedAt?: string, origin: string, auto: boolean, cleanly?: boolean }} options
 */
export function uncleanStopLines({ since, startedAt = since, origin, auto, cleanly = false }) {
  return [
    ...(cleanly
      ? [
          `plinth: the events the local queue lost since ${since} are not replayed yet (a run killed, or wrangler`,
          "  dev started again under npm start, and its replays not run): the audit log and the webhooks miss them",
        ]
      : startedAt === since
        ? [
            `plinth: the npm start begun at ${startedAt} did not stop cleanly (killed, or its terminal closed);`,
            "  the events the local queue held then were lost to the audit log and the webhooks",
          ]
        : [
            `plinth: the npm start begun at ${startedAt} did not stop cleanly (killed, or its terminal closed);`,
            "  the events its local queue held were lost to the audit log and the webhooks, as were those",
            `  lost since ${since} (an earlier kill, or a wrangler dev restart, whose replays had not run yet)`,
          ]),
    "  (docs/operations.md#what-survives-a-crash). What can be given back, once plinth runs:",
    ...replayCommandLines(origin),
    `  What cannot: the events of writers that keep no event log once sent (${UNREPLAYABLE}).`,
    auto
      ? "  npm start runs both once plinth is up (each applies only what is missing; PLINTH_REPLAY_AFTER_CRASH=0 leaves it to you)."
      : "  PLINTH_REPLAY_AFTER_CRASH=0: npm start leaves them to you; this reminder comes back at each start until they ran.",
  ];
}

/**
 * What npm start says, with PLINTH_REPLAY_AFTER_CRASH=0, when wrangler dev started again under
 * it: its queue's events were lost then, not at some earlier kill, and the reminder at the next
 * start came too late for a developer who is looking at the audit log now.
 * @param {string} origin
 */
export function restartLossLines(origin) {
  return [
    "plinth: wrangler dev started again, and the events its local queue held went with it: the audit log and",
    "  the webhooks miss them (docs/operations.md#what-survives-a-crash). PLINTH_REPLAY_AFTER_CRASH=0 leaves the",
    "  replays to you; now that plinth answers, they give back what can be given back:",
    ...replayCommandLines(origin),
    "  (each applies only what is missing). The next npm start reminds you of them again.",
  ];
}

/**
 * What runs the replays this run owes, after those already under way: with `auto` (unless
 * PLINTH_REPLAY_AFTER_CRASH=0) it runs them and records them as run; without, it names them
 * at a wrangler dev restart (`restarted`: the start's own reminder named the earlier ones).
 * A loss heard of meanwhile stays owed: its own call replays it. Resolves when done.
 * @param {{ tracked: { readonly owedSince: string | null, readonly debt: number, recovered(upTo: number): void },
 *   auto: boolean, origin: string, rootKey?: () => string | undefined,
 *   say: (line: string) => void, warn?: (line: string) => void,
 *   replay?: typeof replayAfterCrash }} options
 * @returns {(what: string, options?: { restarted?: boolean }) => Promise<void>}
 *   `what`: what the replays give back, for the line that says they start
 */
export function owedReplays({ tracked, auto, origin, rootKey, say, warn = say, replay = replayAfterCrash }) {
  let replaying = Promise.resolve();
  return (what, { restarted = false } = {}) => {
    if (!tracked.owedSince) return replaying;
    if (!auto) {
      if (restarted) warn(restartLossLines(origin).join("\n"));
      return replaying;
    }
    const upTo = tracked.debt;
    replaying = replaying.then(async () => {
      say(`plinth: replaying ${what}…`);
      const outcome = await replay({ origin, rootKey });
      if (outcome === "done") {
        tracked.recovered(upTo);
        say("plinth: replays done; the audit log and webhooks have what the queue lost");
      } else {
        warn(replayNotDoneLine(outcome, origin));
      }
    });
    return replaying;
  };
}

/** The replay CLIs running now: a stop of npm start ends them (see {@link endReplays}). */
const replays = new Set();

/**
 * Sends `signal` to the replay CLIs still running. npm start calls it when a stop signal
 * reaches it, and it runs at npm start's exit: a SIGTERM sent to npm start alone (not its
 * process group, as a terminal's Ctrl-C is) left the replay running against a plinth that
 * was gone, and its output arriving after the shell's prompt. Ended so, a replay stays owed.
 * @param {NodeJS.Signals} [signal]
 */
export function endReplays(signal = "SIGTERM") {
  for (const child of replays) {
    try {
      child.kill(signal);
    } catch {
      // Gone already.
    }
  }
}

/**
 * Runs each replay with the CLI against `origin`, one after the other, with its output on
 * screen, and stops at the first that does not succeed: `done`, `failed`, or `interrupted`
 * when a replay's CLI was ended by a signal (Ctrl-C reaches it with npm start: nothing failed,
 * and the replay stays owed). `run` resolves the exit code, or null for such an end;
 * injectable for the tests. The root key is read before each replay, not when npm start
 * began: a key rotated in .dev.vars since then (docs/operations.md, "Rotating keys") is the
 * one the restarted plinth takes.
 * @param {{ origin: string, rootKey?: () => string | undefined, run?: (args: string[], env: Record<string, string | undefined>) => Promise<number | null> }} options
 * @returns {Promise<"done" | "failed" | "interrupted">}
 */
export async function replayAfterCrash({ origin, rootKey = () => undefined, run = runCli }) {
  for (const { consumer } of REPLAYS) {
    const key = rootKey();
    const env = { ...offlineEnv, PLINTH_URL: origin, ...(key ? { PLATFORM_ROOT_KEY: key } : {}) };
    const code = await run(["events", "replay", consumer], env);
    if (code === null) return "interrupted";
    if (code !== 0) return "failed";
  }
  return "done";
}

/**
 * What npm start says when its replays did not all run: a failure names the commands on this
 * run's URL (the CLI's default is port 8787's); an interruption only that they stay owed.
 * @param {"failed" | "interrupted"} outcome @param {string} origin
 */
export function replayNotDoneLine(outcome, origin) {
  return outcome === "interrupted"
    ? "plinth: the replays were interrupted by the stop; they stay owed, and the next npm start runs them"
    : `plinth: a replay failed (see above); once fixed, run: ${replayCommand(origin, REPLAYS[0].consumer)}, then ${REPLAYS[1].consumer} (or start npm start again: it runs them)`;
}

let endsAtExit = false;

/**
 * `node scripts/plinth.mjs <args>` with its output on screen, but for the list of event types
 * no replay can read (printed on every replay, some fifty names): the start's message already
 * said which writers those are. Resolves the exit code.
 */
function runCli(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "scripts", "plinth.mjs"), ...args], {
      cwd: root,
      stdio: ["ignore", "inherit", "pipe"],
      env,
    });
    if (replays.size === 0 && !endsAtExit) {
      endsAtExit = true;
      process.on("exit", () => endReplays("SIGTERM"));
    }
    replays.add(child);
    child.on("exit", () => replays.delete(child));
    createInterface({ input: child.stderr }).on("line", (line) => {
      if (!/^[\w.:-]+: not replayed, their writers keep no event log/.test(line)) process.stderr.write(`${line}\n`);
    });
    child.on("error", () => resolve(1));
    child.on("exit", (code, signal) => resolve(signal ? null : (code ?? 1)));
  });
}
