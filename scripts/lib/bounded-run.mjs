// One check of `npm test`, run so that it cannot hold the run up: in its own process group,
// with a time limit, and with whatever it leaves running ended when it exits.
//
// Why: a CI run hung until its 90-minute limit with a workerd printing "connect(): Connection
// refused" over and over — a runtime whose Node side was gone, still alive and still holding
// the output pipe. A check's children (vitest forks, Miniflare's workerd, wrangler) share the
// check's process group, so the group names everything the check started, however deep.
import { execFileSync, spawn } from "node:child_process";
import { statSync } from "node:fs";

/**
 * @typedef {object} BoundedResult
 * @property {number} code the command's exit code (124 when it was ended for its time limit)
 * @property {boolean} timedOut whether a limit ended it (the total, or no progress for the idle bound)
 * @property {string[]} leftovers `pid (state wait-channel) command` of each process still in its group when it ended
 */

// `ps` columns: with the kernel wait channel where `ps` has it (procps: Linux), else without.
// A hung check's listing then says whether a process was blocked in a system call (futex,
// pipe_write, ep_poll: a Node main thread whose event loop is stuck, as a vitest that ignored
// SIGTERM was) or running (`-`). It is the main thread's channel, the one running the event loop.
const PS_FORMATS = ["pid=,pgid=,stat=,wchan:32=,args=", "pid=,pgid=,stat=,args="];

/**
 * `pid (state wait-channel) command` of every live process in process group `pgid` (empty
 * where `ps` cannot tell; `?` for the wait channel where `ps` has none). Zombies are left out:
 * they run nothing and hold no output open (vitest's esbuild leaves one here, where the
 * container's init does not reap).
 */
export function processesInGroup(pgid) {
  for (const format of PS_FORMATS) {
    let out;
    try {
      out = execFileSync("ps", ["-eo", format], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      continue;
    }
    const withWchan = format.includes("wchan");
    const pattern = withWchan ? /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/ : /^\s*(\d+)\s+(\d+)\s+(\S+)\s+()(.*)$/;
    const found = [];
    for (const line of out.split("\n")) {
      const match = pattern.exec(line);
      if (match && Number(match[2]) === pgid && !match[3].startsWith("Z")) {
        found.push(`${match[1]} (${match[3]} ${match[4] || "?"}) ${match[5].slice(0, 160)}`);
      }
    }
    return found;
  }
  return [];
}

function killGroup(pgid) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // The group is already empty.
  }
}

/**
 * @typedef {object} StopReason
 * @property {"total" | "idle"} bound which limit was hit: the run's total time, or its progress file's silence
 * @property {number} seconds that limit
 */

/**
 * Whether a bounded run must be stopped now, and for which limit (null: let it run). Times in
 * ms since the epoch. With `idleSeconds`, a run is hung when its progress file has recorded
 * nothing for that long: a long run that keeps reporting tests is slow, not hung (a loaded
 * machine once had a Node suite stopped at its 10-minute total while its last event was 1 s
 * old, and run again for nothing). Silence is counted from the later of the run's start and
 * the last event, so a file left by an earlier run (npm test's run-again) counts as no event.
 * The total limit stays, so a run that reports forever (a loop) still ends.
 * @param {{ now: number, startedAt: number, lastEventAt: number | null, limitSeconds: number, idleSeconds?: number }} at
 * @returns {StopReason | null}
 */
export function stopReason({ now, startedAt, lastEventAt, limitSeconds, idleSeconds }) {
  if (now - startedAt >= limitSeconds * 1000) return { bound: "total", seconds: limitSeconds };
  if (idleSeconds === undefined) return null;
  const since = Math.max(startedAt, lastEventAt ?? startedAt);
  return now - since >= idleSeconds * 1000 ? { bound: "idle", seconds: idleSeconds } : null;
}

/**
 * When `path` last changed, in ms since the epoch (null: no such file yet). The progress
 * reporter appends a line per event, synchronously, so this is when it last recorded one;
 * reading the time rather than the file keeps each look cheap however long the file grows.
 * @param {string} path
 */
export function changedAt(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Runs `command args` with inherited stdio in a new process group. After `limitSeconds` — or,
 * with `progressFile` and `idleSeconds`, once that file has not changed for `idleSeconds` — the
 * command is asked to stop (SIGTERM: vitest then prints what it was still running) and
 * `graceSeconds` later its whole group is ended (code 124). When the command exits, anything it
 * left in its group is listed and ended, so no orphan keeps running or keeps the caller's output open.
 * @param {string} command
 * @param {string[]} args
 * @param {{ limitSeconds: number, idleSeconds?: number, progressFile?: string, graceSeconds?: number, cwd?: string, env?: NodeJS.ProcessEnv, onTimeout?: (tree: string[], reason: StopReason) => void }} options
 * @returns {Promise<BoundedResult>}
 */
export function runBounded(
  command,
  args,
  { limitSeconds, idleSeconds, progressFile, graceSeconds = 15, cwd, env, onTimeout },
) {
  // Windows has no process groups to signal; there the command runs as a plain child.
  const grouped = process.platform !== "win32";
  const idle = progressFile === undefined ? undefined : idleSeconds;
  // How often to look: often enough that a stop comes within a few seconds of its limit (and
  // within a fraction of the small limits the tests use), rarely enough to cost nothing.
  const everyMs = Math.min(5000, (Math.min(limitSeconds, idle ?? limitSeconds) * 1000) / 4);
  return new Promise((resolve) => {
    const startedAt = Date.now();
    const child = spawn(command, args, { cwd, env, stdio: "inherit", detached: grouped });
    let timedOut = false;
    let done = false;
    let grace;
    const endAll = () => {
      if (grouped && child.pid) killGroup(child.pid);
      else child.kill("SIGKILL");
    };
    const stopOnSignal = () => {
      endAll();
      process.exit(130);
    };
    process.once("SIGINT", stopOnSignal);
    process.once("SIGTERM", stopOnSignal);
    const timer = setInterval(() => {
      const lastEventAt = progressFile === undefined ? null : changedAt(progressFile);
      const reason = stopReason({ now: Date.now(), startedAt, lastEventAt, limitSeconds, idleSeconds: idle });
      if (!reason) return;
      clearInterval(timer);
      timedOut = true;
      onTimeout?.(grouped && child.pid ? processesInGroup(child.pid) : [], reason);
      child.kill("SIGTERM");
      grace = setTimeout(endAll, graceSeconds * 1000);
    }, everyMs);
    const finish = (code) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(grace);
      process.removeListener("SIGINT", stopOnSignal);
      process.removeListener("SIGTERM", stopOnSignal);
      const leftovers = grouped && child.pid && !timedOut ? processesInGroup(child.pid) : [];
      if (grouped && child.pid) killGroup(child.pid);
      resolve({ code: timedOut ? 124 : code, timedOut, leftovers });
    };
    child.on("error", (error) => {
      console.error(`${command}: ${error.message}`);
      finish(127);
    });
    child.on("exit", (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

/**
 * One check of `npm test` by name: run bounded, with a hang and anything left running reported
 * on stderr, saying which limit stopped it; with `runAgainIfHung`, a run that hung is run once
 * more. `describeHang`, asked when a run is stopped for a limit, gives lines printed before its processes (what the check
 * itself recorded of where it was: a hung process may be unable to say). `notes` says what
 * happened beyond the verdict, for the summary.
 * @param {{ name: string, cmd: string, args: string[] }} step
 * @param {{ limitSeconds: number, idleSeconds?: number, progressFile?: string, graceSeconds?: number, cwd?: string, env?: NodeJS.ProcessEnv, runAgainIfHung?: boolean, describeHang?: () => string[] }} options
 * @returns {Promise<{ code: number, notes: string[] }>}
 */
export async function runCheck(step, { runAgainIfHung = false, describeHang, ...options }) {
  const once = async () => {
    const result = await runBounded(step.cmd, step.args, {
      ...options,
      onTimeout: (tree, { bound, seconds }) => {
        const minutes = Math.round((seconds / 60) * 10) / 10;
        // Which limit: silence is a hang; the total, hit while events still came, is a run that
        // never ends (or a machine far slower than the limits were set for).
        const why =
          bound === "idle"
            ? `no test event for ${minutes} min`
            : `still running after ${minutes} min${options.progressFile ? " (its total limit)" : ""}`;
        console.error(`\n✗ ${step.name}: ${why}; stopping it.`);
        for (const line of describeHang?.() ?? []) console.error(`    ${line}`);
        console.error("  Its processes (pid (state wait-channel) command) were:");
        for (const line of tree) console.error(`    ${line}`);
      },
    });
    if (result.leftovers.length > 0) {
      // Not a failure of the check itself (it exited with its verdict), but such a process can
      // keep a CI run's output open until CI's own limit: say what it was, so it gets found.
      console.error(`\n! ${step.name} exited leaving ${result.leftovers.length} process(es) running; ended:`);
      for (const line of result.leftovers) console.error(`    ${line}`);
    }
    return result;
  };
  const notes = [];
  let result = await once();
  if (result.timedOut && runAgainIfHung) {
    notes.push("hung once, run again");
    console.error(`\n▶ ${step.name}, again (the run above hung)`);
    result = await once();
  }
  if (result.timedOut) notes.push("timed out");
  if (result.leftovers.length > 0) notes.push(`${result.leftovers.length} left running, ended`);
  return { code: result.code, notes };
}
