// One check of `npm test`, run so that it cannot hold the run up: in its own process group,
// with a time limit, and with whatever it leaves running ended when it exits.
//
// Why: a CI run hung until its 90-minute limit with a workerd printing "connect(): Connection
// refused" over and over — a runtime whose Node side was gone, still alive and still holding
// the output pipe. A check's children (vitest forks, Miniflare's workerd, wrangler) share the
// check's process group, so the group names everything the check started, however deep.
import { execFileSync, spawn } from "node:child_process";

/**
 * @typedef {object} BoundedResult
 * @property {number} code the command's exit code (124 when it was ended for its time limit)
 * @property {boolean} timedOut whether the time limit ended it
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
 * Runs `command args` with inherited stdio in a new process group. After `limitSeconds` the
 * command is asked to stop (SIGTERM: vitest then prints what it was still running) and
 * `graceSeconds` later its whole group is ended (code 124). When the command exits, anything it
 * left in its group is listed and ended, so no orphan keeps running or keeps the caller's output open.
 * @param {string} command
 * @param {string[]} args
 * @param {{ limitSeconds: number, graceSeconds?: number, cwd?: string, env?: NodeJS.ProcessEnv, onTimeout?: (tree: string[]) => void }} options
 * @returns {Promise<BoundedResult>}
 */
export function runBounded(command, args, { limitSeconds, graceSeconds = 15, cwd, env, onTimeout }) {
  // Windows has no process groups to signal; there the command runs as a plain child.
  const grouped = process.platform !== "win32";
  return new Promise((resolve) => {
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
    const timer = setTimeout(() => {
      timedOut = true;
      onTimeout?.(grouped && child.pid ? processesInGroup(child.pid) : []);
      child.kill("SIGTERM");
      grace = setTimeout(endAll, graceSeconds * 1000);
    }, limitSeconds * 1000);
    const finish = (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
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
 * on stderr; with `runAgainIfHung`, a run that hung is run once more. `describeHang`, asked when
 * a run is stopped for its limit, gives lines printed before its processes (what the check
 * itself recorded of where it was: a hung process may be unable to say). `notes` says what
 * happened beyond the verdict, for the summary.
 * @param {{ name: string, cmd: string, args: string[] }} step
 * @param {{ limitSeconds: number, graceSeconds?: number, cwd?: string, env?: NodeJS.ProcessEnv, runAgainIfHung?: boolean, describeHang?: () => string[] }} options
 * @returns {Promise<{ code: number, notes: string[] }>}
 */
export async function runCheck(step, { runAgainIfHung = false, describeHang, ...options }) {
  const once = async () => {
    const result = await runBounded(step.cmd, step.args, {
      ...options,
      onTimeout: (tree) => {
        const minutes = Math.round((options.limitSeconds / 60) * 10) / 10;
        console.error(`\n✗ ${step.name}: still running after ${minutes} min; stopping it.`);
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
