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
 * @property {string[]} leftovers `pid command` of each process still in its group when it ended
 */

/**
 * `pid command` of every live process in process group `pgid` (empty where `ps` cannot tell).
 * Zombies are left out: they run nothing and hold no output open (vitest's esbuild leaves one
 * here, where the container's init does not reap).
 */
export function processesInGroup(pgid) {
  let out;
  try {
    out = execFileSync("ps", ["-eo", "pid=,pgid=,stat=,args="], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return [];
  }
  const found = [];
  for (const line of out.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (match && Number(match[2]) === pgid && !match[3].startsWith("Z")) {
      found.push(`${match[1]} ${match[4].slice(0, 160)}`);
    }
  }
  return found;
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
 * group is ended (code 124). When the command exits, anything it left in its group is listed
 * and ended, so no orphan keeps running or keeps the caller's output open.
 * @param {string} command
 * @param {string[]} args
 * @param {{ limitSeconds: number, cwd?: string, env?: NodeJS.ProcessEnv, onTimeout?: (tree: string[]) => void }} options
 * @returns {Promise<BoundedResult>}
 */
export function runBounded(command, args, { limitSeconds, cwd, env, onTimeout }) {
  // Windows has no process groups to signal; there the command runs as a plain child.
  const grouped = process.platform !== "win32";
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: "inherit", detached: grouped });
    let timedOut = false;
    let done = false;
    const stopOnSignal = () => {
      if (grouped && child.pid) killGroup(child.pid);
      process.exit(130);
    };
    process.once("SIGINT", stopOnSignal);
    process.once("SIGTERM", stopOnSignal);
    const timer = setTimeout(() => {
      timedOut = true;
      onTimeout?.(grouped && child.pid ? processesInGroup(child.pid) : []);
      if (grouped && child.pid) killGroup(child.pid);
      else child.kill("SIGKILL");
    }, limitSeconds * 1000);
    const finish = (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
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
