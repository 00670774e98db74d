// npm start after a run that did not stop cleanly (scripts/lib/dev-crash.mjs): Miniflare's
// queue held the undelivered events in memory only, so the audit log and the webhooks miss
// them until their subscriptions are replayed. The next start says so, names the commands
// (on its own URL) and what no replay gives back, and runs the replays once it is up.
// A stop that runs our code (Ctrl-C of the whole process group, SIGTERM) is clean; one that
// runs none (kill -9, the terminal closed) is not.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  anotherStartLines,
  endRun,
  lastRun,
  owedReplays,
  readRun,
  replayAfterCrash,
  replayNotDoneLine,
  trackRun,
  uncleanStopLines,
} from "../../scripts/lib/dev-crash.mjs";

const dir = mkdtempSync(join(tmpdir(), "plinth-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `run-${files++}.json`);

// A stand-in for npm start: tracks its run, and supervises a child as start.mjs supervises
// wrangler dev (SIGINT/SIGTERM stop the child; its exit ends the process). `after` runs once it is up.
const lib = (name: string) => pathToFileURL(join(import.meta.dirname, "..", "..", "scripts", "lib", name)).href;
const standIn = (file: string, imports: string, after = "") => {
  const path = join(dir, file);
  writeFileSync(
    path,
    `import { spawn } from "node:child_process";
import { ${imports} } from ${JSON.stringify(lib("dev-crash.mjs"))};
import { superviseDev } from ${JSON.stringify(lib("dev-supervisor.mjs"))};
trackRun({ port: 8799, file: process.argv[2] });
const dev = superviseDev({
  start: () => spawn("sleep", ["60"], { stdio: "ignore" }),
  watch: () => () => {},
  log: () => {},
  exit: (code) => process.exit(code),
});
dev.up();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.stop(signal));
${after}console.log("ready");
`,
  );
  return path;
};
const fakeStart = standIn("fake-start.mjs", "trackRun");
// The same, with the replays start.mjs runs after a crash under way, against argv[3].
const fakeReplayingStart = standIn(
  "fake-replaying-start.mjs",
  "replayAfterCrash, trackRun",
  `void replayAfterCrash({ origin: process.argv[3], rootKey: () => "a-root-key" });\n`,
);

/** Starts the stand-in in a process group of its own (as a terminal runs npm start) once ready. */
async function startFake(file: string, script = fakeStart, ...args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, file, ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the stand-in exited (${code}) before it was ready`)));
  });
  return child;
}

/** Signals the stand-in's whole process group, as Ctrl-C or `kill -9 -<pgid>` do, and waits for it. */
async function signalGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  if (child.pid === undefined) throw new Error("no pid");
  process.kill(-child.pid, signal);
  await exited;
}

const origin = "http://127.0.0.1:8802";

describe("npm start after a run that did not stop cleanly", () => {
  it("finds nothing to say after Ctrl-C of the process group or a SIGTERM", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const file = freshFile();
      await signalGroup(await startFake(file), signal);
      expect(existsSync(file)).toBe(false);
      const next = trackRun({ port: 8802, file, onExit: () => {} });
      expect(next.previous).toEqual({ state: "none" });
      expect(next.owedSince).toBeNull();
    }
  });

  it("ends the replay under way when SIGTERM reaches npm start alone (not its group)", async () => {
    // The replay's CLI, in npm start's process group, got nothing: npm start exited and left
    // it running against a plinth that was gone.
    const requests: Socket[] = [];
    // Never answers; reads on, so that the replay's end (its socket closed) is seen.
    const server = createServer((socket) => requests.push(socket.resume()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    try {
      const file = freshFile();
      const child = await startFake(file, fakeReplayingStart, `http://127.0.0.1:${address.port}`);
      for (let i = 0; i < 100 && requests.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(requests).toHaveLength(1);
      const replay = requests[0] as Socket;
      const replayEnded = new Promise((resolve) => replay.once("close", () => resolve(true)));
      const exited = new Promise((resolve) => child.once("exit", resolve));
      if (child.pid === undefined) throw new Error("no pid");
      process.kill(child.pid, "SIGTERM");
      await exited;
      expect(await Promise.race([replayEnded, new Promise((r) => setTimeout(() => r(false), 3000))])).toBe(true);
      expect(existsSync(file)).toBe(false); // a clean stop, as before
    } finally {
      for (const socket of requests) socket.destroy();
      server.close();
    }
  });

  it("notices a run killed with kill -9 or by its terminal closing (SIGHUP), and says since when", async () => {
    for (const signal of ["SIGKILL", "SIGHUP"] as const) {
      const file = freshFile();
      const child = await startFake(file);
      const began = readRun(file);
      await signalGroup(child, signal);
      expect(began?.pid).toBe(child.pid);
      const next = trackRun({ port: 8802, file, onExit: () => {} });
      expect(next.previous).toEqual({ state: "unclean", since: began?.started_at, startedAt: began?.started_at });
      expect(next.owedSince).toBe(began?.started_at);
    }
  });

  it("keeps the replay owed across a clean stop until it ran, then forgets it", () => {
    const file = freshFile();
    let exit = () => {};
    const crashed = trackRun({ port: 8787, file, pid: 1, now: () => "T0", onExit: () => {} });
    expect(crashed.previous.state).toBe("none");
    // pid 1's run is "dead" for this test: the next start finds it unclean.
    const dead = () => false;
    const second = trackRun({ port: 8802, file, pid: 2, now: () => "T1", alive: dead, onExit: (f) => (exit = f) });
    expect(second.owedSince).toBe("T0");
    exit(); // stopped cleanly before its replays ran (its Worker never came up, say)
    expect(readRun(file)).toEqual({ owed_since: "T0" });
    const third = trackRun({ port: 8802, file, pid: 3, now: () => "T2", alive: dead, onExit: (f) => (exit = f) });
    // It stopped cleanly: what it left is a replay owed, not a crash of its own.
    expect(third.previous).toEqual({ state: "owed", since: "T0" });
    third.recovered(third.debt);
    expect(readRun(file)).toEqual({ pid: 3, port: 8802, started_at: "T2" });
    exit();
    expect(existsSync(file)).toBe(false);
  });

  it("owes a replay when wrangler dev is started again under a run, and not one begun before that", () => {
    const file = freshFile();
    let exit = () => {};
    let clock = 0;
    const run = trackRun({ port: 8802, file, pid: 5, now: () => `T${clock++}`, onExit: (f) => (exit = f) });
    expect(run.owedSince).toBeNull();
    // A replay begun now covers nothing lost later: wrangler dev restarts (a .dev.vars edit).
    const before = run.debt;
    run.owe();
    expect(run.owedSince).toBe("T1");
    expect(readRun(file)).toEqual({ pid: 5, port: 8802, started_at: "T0", owed_since: "T1" });
    run.recovered(before);
    expect(run.owedSince).toBe("T1");
    // Ctrl-C before the replay for the restart ran: the next start still owes it.
    exit();
    expect(readRun(file)).toEqual({ owed_since: "T1" });
    run.recovered(run.debt);
    expect(run.owedSince).toBeNull();
    exit();
    expect(existsSync(file)).toBe(false);
  });

  it("leaves alone the record of another npm start still running on the same state", () => {
    const file = freshFile();
    trackRun({ port: 8787, file, pid: 41, now: () => "T0", onExit: () => {} });
    let exit = () => {};
    const second = trackRun({ port: 8802, file, pid: 42, alive: (pid) => pid === 41, onExit: (f) => (exit = f) });
    expect(second.previous).toEqual({ state: "running", pid: 41, port: 8787 });
    expect(second.owedSince).toBeNull();
    exit();
    expect(readRun(file)).toEqual({ pid: 41, port: 8787, started_at: "T0" });
  });

  it("takes a live npm start's record for a run, not another program's that reuses the pid", async () => {
    const file = freshFile();
    const start = await startFake(file);
    try {
      expect(trackRun({ port: 8802, file, onExit: () => {} }).previous).toEqual({
        state: "running",
        pid: start.pid,
        port: 8799,
      });
    } finally {
      await signalGroup(start, "SIGINT");
    }
    // A crash before a reboot left the record; its pid is now some other program's.
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const crashed = freshFile();
      writeFileSync(crashed, JSON.stringify({ pid: other.pid, port: 8787, started_at: "T0" }));
      expect(trackRun({ port: 8802, file: crashed, onExit: () => {} }).previous).toEqual({
        state: "unclean",
        since: "T0",
        startedAt: "T0",
      });
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("tells a second npm start on the same state which one runs, and why it cannot run beside it", () => {
    const lines = anotherStartLines({ pid: 41, port: 8787 }).join("\n");
    expect(lines).toContain(
      "another npm start (pid 41) runs on this checkout's .wrangler/state at http://127.0.0.1:8787",
    );
    expect(lines).toContain("SQLITE_BUSY");
    expect(lines).toContain("kill 41");
  });

  it("runs on, saying so, where the record cannot be written (a read-only .wrangler)", () => {
    // The write threw at start (a stack trace instead of the start), and at a wrangler dev
    // restart or a replay's end, inside npm start's callbacks, ended it.
    const blocker = freshFile();
    writeFileSync(blocker, "not a folder");
    const file = join(blocker, "run.json");
    let exit = () => {};
    const run = trackRun({ port: 8802, file, pid: 9, now: () => "T0", onExit: (f) => (exit = f) });
    expect(run.unwritable).toMatch(/EEXIST|ENOTDIR/);
    expect(() => run.owe()).not.toThrow();
    expect(() => run.recovered(run.debt)).not.toThrow();
    expect(() => exit()).not.toThrow();
  });

  it("stops quietly when .wrangler/state was deleted meanwhile: the events owed went with it", () => {
    const file = join(dir, "deleted-state", "run.json");
    expect(() => endRun("T0", file)).not.toThrow();
    expect(existsSync(file)).toBe(false);
  });

  it("reads a missing or half-written record as no run", () => {
    const file = freshFile();
    expect(lastRun(readRun(file), () => false)).toEqual({ state: "none" });
    writeFileSync(file, '{"pid":');
    expect(lastRun(readRun(file), () => false)).toEqual({ state: "none" });
    endRun(null, file);
    expect(existsSync(file)).toBe(false);
  });

  it("does not call a run that stopped cleanly, with a replay owed, a crash", () => {
    // wrangler dev started again under a run (a .dev.vars edit) at T1, and Ctrl-C came before
    // its replays ran, or with PLINTH_REPLAY_AFTER_CRASH=0: no npm start began at T1, and the
    // one that ran stopped cleanly.
    const file = freshFile();
    let exit = () => {};
    const run = trackRun({ port: 8802, file, pid: 7, now: () => "T1", onExit: (f) => (exit = f) });
    run.owe();
    exit();
    const next = trackRun({ port: 8802, file, pid: 8, now: () => "T2", alive: () => false, onExit: () => {} });
    expect(next.previous).toEqual({ state: "owed", since: "T1" });
    expect(next.owedSince).toBe("T1");
    const text = uncleanStopLines({ since: "T1", origin, auto: true, cleanly: true }).join("\n");
    expect(text).not.toContain("did not stop cleanly");
    expect(text).toContain("the events the local queue lost since T1 are not replayed yet");
    expect(text).toContain(`PLINTH_URL=${origin} npx plinth events replay audit:log`);
  });

  it("after a kill with replays already owed, says when the killed run began and since when events are owed", () => {
    // It said 'the npm start begun at <owed_since> did not stop cleanly': the time of an
    // earlier loss (a kill before, a wrangler dev restart), shown as the killed run's start.
    const file = freshFile();
    writeFileSync(file, JSON.stringify({ pid: 2_000_000, port: 8787, started_at: "T2", owed_since: "T0" }));
    const next = trackRun({ port: 8802, file, pid: 12, now: () => "T3", alive: () => false, onExit: () => {} });
    expect(next.previous).toEqual({ state: "unclean", since: "T0", startedAt: "T2" });
    expect(next.owedSince).toBe("T0");
    const text = uncleanStopLines({ since: "T0", startedAt: "T2", origin, auto: true }).join("\n");
    expect(text).toContain("the npm start begun at T2 did not stop cleanly");
    expect(text).not.toContain("begun at T0");
    expect(text).toContain("lost since T0");
    // With nothing owed before, the two times are one: said once, as before.
    const alone = uncleanStopLines({ since: "T2", startedAt: "T2", origin, auto: true }).join("\n");
    expect(alone).toContain("the npm start begun at T2 did not stop cleanly");
    expect(alone).not.toContain("lost since");
  });

  it("with PLINTH_REPLAY_AFTER_CRASH=0, names the replays when wrangler dev restarts, not only at the next start", async () => {
    // A restart's loss was only owed in the record: nothing was said until the next npm start.
    const said: string[] = [];
    const ran: string[] = [];
    const run = trackRun({ port: 8802, file: freshFile(), pid: 13, now: () => "T0", onExit: () => {} });
    const replay = async () => {
      ran.push("replay");
      return "done" as const;
    };
    const manual = owedReplays({ tracked: run, auto: false, origin, say: (line) => said.push(line), replay });
    await manual("the events the last run's queue lost"); // the start's reminder said it already
    expect(said).toEqual([]);
    run.owe();
    await manual("the events the stopped wrangler dev's queue held", { restarted: true });
    const text = said.join("\n");
    expect(text).toContain("wrangler dev started again");
    expect(text).toContain(`PLINTH_URL=${origin} npx plinth events replay audit:log`);
    expect(text).toContain(`PLINTH_URL=${origin} npx plinth events replay webhooks:dispatch`);
    expect(text).toContain("PLINTH_REPLAY_AFTER_CRASH=0");
    expect(ran).toEqual([]);
    expect(run.owedSince).toBe("T0");
    // Replays on: the restart's are run, and recorded as run.
    const auto = owedReplays({ tracked: run, auto: true, origin, say: (line) => said.push(line), replay });
    await auto("the events the stopped wrangler dev's queue held", { restarted: true });
    expect(ran).toEqual(["replay"]);
    expect(run.owedSince).toBeNull();
  });

  it("names the replays on this run's URL, what they give back, and what no replay can", () => {
    const text = uncleanStopLines({ since: "2026-12-05T11:00:00.000Z", origin, auto: false }).join("\n");
    expect(text).toContain("2026-12-05T11:00:00.000Z did not stop cleanly");
    expect(text).toContain(`PLINTH_URL=${origin} npx plinth events replay audit:log`);
    expect(text).toContain(`PLINTH_URL=${origin} npx plinth events replay webhooks:dispatch`);
    expect(text).toContain("invitations, keys, roles and settings; the file store; webhook endpoints");
    expect(text).toContain("docs/operations.md#what-survives-a-crash");
    expect(text).toContain("leaves them to you");
    expect(uncleanStopLines({ since: "T", origin, auto: true }).join("\n")).toContain("npm start runs both once");
  });

  it("runs the replays with the CLI against this run, with its root key, and stops at a failure", async () => {
    const calls: { args: string[]; url?: string; key?: string }[] = [];
    const ok = await replayAfterCrash({
      origin,
      rootKey: () => "root-key",
      run: async (args, env) => {
        calls.push({ args, url: env.PLINTH_URL, key: env.PLATFORM_ROOT_KEY });
        return 0;
      },
    });
    expect(ok).toBe("done");
    expect(calls).toEqual([
      { args: ["events", "replay", "audit:log"], url: origin, key: "root-key" },
      { args: ["events", "replay", "webhooks:dispatch"], url: origin, key: "root-key" },
    ]);
    const tried: string[] = [];
    const failed = await replayAfterCrash({
      origin,
      run: async (args) => {
        tried.push(args[2] ?? "");
        return 3;
      },
    });
    expect(failed).toBe("failed");
    expect(tried).toEqual(["audit:log"]);
    expect(replayNotDoneLine("failed", origin)).toContain(
      `once fixed, run: PLINTH_URL=${origin} npx plinth events replay audit:log, then webhooks:dispatch`,
    );
  });

  it("tells a replay the stop interrupted (Ctrl-C reached the CLI too) from one that failed", async () => {
    // Said "a replay failed (see above); once fixed, run: …" at every Ctrl-C during the
    // replays: nothing had failed, and nothing above said so. The replay stays owed.
    const tried: string[] = [];
    const outcome = await replayAfterCrash({
      origin,
      run: async (args) => {
        tried.push(args[2] ?? "");
        return null; // ended by a signal
      },
    });
    expect(outcome).toBe("interrupted");
    expect(tried).toEqual(["audit:log"]);
    const line = replayNotDoneLine("interrupted", origin);
    expect(line).not.toContain("failed");
    expect(line).toContain("the next npm start runs them");
  });

  it("reads the root key before each replay, not once at npm start, so a key rotated in .dev.vars is the one sent", async () => {
    // npm start read .dev.vars once at launch; the developer then rotated the root key there,
    // which restarted wrangler dev with the new key only. Here the rotation lands between replays.
    let current = "launch-time-key";
    const sent: (string | undefined)[] = [];
    const ok = await replayAfterCrash({
      origin,
      rootKey: () => current,
      run: async (_args, env) => {
        sent.push(env.PLATFORM_ROOT_KEY);
        current = "rotated-key";
        return 0;
      },
    });
    expect(ok).toBe("done");
    expect(sent).toEqual(["launch-time-key", "rotated-key"]);
  });
});
