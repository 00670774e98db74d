// npm test's runner of one check (scripts/lib/bounded-run.mjs): a check that hangs is ended at
// its limit with what it was running named, and a process a check leaves behind (as an
// orphaned workerd once kept a CI run's output open for 90 minutes) is named and ended.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { processesInGroup, runBounded, runCheck } from "../../scripts/lib/bounded-run.mjs";

const ROOT = join(import.meta.dirname, "..", "..");

/** Whether `pid` still runs: a killed orphan may stay a zombie until init reaps it, so `ps` decides. */
const running = (pid: number) => {
  try {
    const state = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return state !== "" && !state.startsWith("Z");
  } catch {
    return false; // ps exits 1 when no such process exists
  }
};
/** Waits up to 5 s for every pid to stop running; returns those still running. */
async function stillRunning(pids: number[]): Promise<number[]> {
  for (let tries = 0; tries < 50; tries++) {
    if (!pids.some(running)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return pids.filter(running);
}

describe("npm test's bounded run of one check", () => {
  it("passes the check's exit code through and reports nothing left when it leaves nothing", async () => {
    const ok = await runBounded("sh", ["-c", "exit 0"], { limitSeconds: 30 });
    const failed = await runBounded("sh", ["-c", "exit 3"], { limitSeconds: 30 });
    expect(ok).toEqual({ code: 0, timedOut: false, leftovers: [] });
    expect(failed).toEqual({ code: 3, timedOut: false, leftovers: [] });
  });

  it("names and ends a process the check left running when it exited", async () => {
    // The grandchild keeps running after its parent exits, as an orphaned runtime would.
    const result = await runBounded("sh", ["-c", "sleep 300 & sleep 0.3; exit 0"], { limitSeconds: 30 });
    expect(result.code).toBe(0);
    expect(result.leftovers).toHaveLength(1);
    // pid, then (state wait-channel): a sleeping process, and the kernel call it waits in.
    expect(result.leftovers[0]).toMatch(/^\d+ \(S\S* \S+\) sleep 300$/);
    const pid = Number(result.leftovers[0]?.split(" ")[0]);
    expect(pid).toBeGreaterThan(0);
    expect(await stillRunning([pid])).toEqual([]);
  });

  it("ends a check that outlives its limit, with every process it started, and says what they were", async () => {
    const seen: string[][] = [];
    const started = performance.now();
    // The shell ignores the polite SIGTERM (as a hung runner might), so only the group kill ends it.
    const result = await runBounded("sh", ["-c", "trap '' TERM; sleep 300 & sleep 301; exit 0"], {
      limitSeconds: 1,
      graceSeconds: 1,
      onTimeout: (tree) => seen.push(tree),
    });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBe(124);
    expect(performance.now() - started).toBeLessThan(20_000);
    const tree = seen[0] ?? [];
    expect(tree.some((line) => / sleep 300$/.test(line))).toBe(true);
    expect(tree.some((line) => / sleep 301$/.test(line))).toBe(true);
    // Each with its state and the kernel call it waits in (a hung main loop shows where it blocks).
    for (const line of tree) expect(line).toMatch(/^\d+ \(\S+ \S+\) /);
    expect(await stillRunning(tree.map((line) => Number(line.split(" ")[0])))).toEqual([]);
  });

  it("does not count a zombie as left running (it runs nothing and holds no output open)", async () => {
    // The shell's short child exits unreaped once the shell has become the long sleep.
    const leader = spawn("sh", ["-c", "sleep 0.05 & exec sleep 300"], { detached: true, stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const pgid = leader.pid ?? 0;
      const states = execFileSync("ps", ["-eo", "pgid=,stat="], { encoding: "utf8" })
        .split("\n")
        .filter((line) => Number(line.trim().split(/\s+/)[0]) === pgid);
      expect(states.some((line) => / Z/.test(line))).toBe(true);
      const live = processesInGroup(pgid);
      expect(live).toHaveLength(1);
      expect(live[0]).toMatch(new RegExp(`^${pgid} \\(S\\S* \\S+\\) sleep 300$`));
    } finally {
      leader.kill("SIGKILL");
    }
  });

  it("asks the command to stop first, so a runner can say what it was still running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bounded-run-"));
    try {
      const said = join(dir, "said");
      const result = await runBounded("sh", ["-c", `trap 'echo stopping > ${said}; exit 0' TERM; sleep 300 & wait`], {
        limitSeconds: 1,
        graceSeconds: 10,
      });
      expect(result.timedOut).toBe(true);
      expect(readFileSync(said, "utf8")).toBe("stopping\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a check that hung once more when asked, and says so; a second hang fails it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bounded-run-"));
    try {
      // Hangs on its first run only (as a simulator flake would), passes on the second.
      const marker = join(dir, "ran");
      const flaky = {
        name: "flaky",
        cmd: "sh",
        args: ["-c", `if [ -f ${marker} ]; then exit 0; fi; touch ${marker}; trap '' TERM; sleep 300`],
      };
      expect(await runCheck(flaky, { limitSeconds: 1, graceSeconds: 1, runAgainIfHung: true })).toEqual({
        code: 0,
        notes: ["hung once, run again"],
      });
      rmSync(marker);
      expect(await runCheck(flaky, { limitSeconds: 1, graceSeconds: 1 })).toEqual({ code: 124, notes: ["timed out"] });
      const hangs = { name: "hangs", cmd: "sh", args: ["-c", "trap '' TERM; sleep 300"] };
      expect(await runCheck(hangs, { limitSeconds: 1, graceSeconds: 1, runAgainIfHung: true })).toEqual({
        code: 124,
        notes: ["hung once, run again", "timed out"],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints what the check says about its hang before its processes, on each hung run", async () => {
    const printed: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void printed.push(line));
    try {
      let asked = 0;
      const hangs = { name: "hangs", cmd: "sh", args: ["-c", "trap '' TERM; sleep 300"] };
      const result = await runCheck(hangs, {
        limitSeconds: 1,
        graceSeconds: 1,
        runAgainIfHung: true,
        describeHang: () => [`stuck in test ${++asked}`],
      });
      expect(result.code).toBe(124);
      const said = printed.join("\n");
      expect(said).toMatch(
        /✗ hangs: still running after 0 min; stopping it\.\n {4}stuck in test 1\n {2}Its processes \(pid \(state wait-channel\) command\) were:\n( {4}\d+ \(\S+ \S+\) .*\n)*? {4}\d+ \(\S+ \S+\) sleep 300\n/,
      );
      expect(said).toMatch(/stuck in test 2\n {2}Its processes/);
    } finally {
      spy.mockRestore();
    }
  });

  it("has vitest name the test file that hung when the limit stops it (running-files reporter)", async () => {
    // A suite of its own inside the repository (so `vitest` resolves), with files the Node
    // suite does not take (.mjs): one that hangs while loading, one that passes.
    const dir = mkdtempSync(join(ROOT, "test", "node", ".hang-"));
    try {
      mkdirSync(join(dir, "cases"));
      writeFileSync(join(dir, "vitest.config.mjs"), 'export default { test: { include: ["cases/*.test.mjs"] } };\n');
      writeFileSync(
        join(dir, "cases", "hangs.test.mjs"),
        'import { it } from "vitest";\nawait new Promise(() => setInterval(() => {}, 1000));\nit("never", () => {});\n',
      );
      writeFileSync(join(dir, "cases", "passes.test.mjs"), 'import { it } from "vitest";\nit("passes", () => {});\n');
      const out = join(dir, "stderr.txt");
      const reporter = join(ROOT, "scripts", "lib", "running-files-reporter.mjs");
      const vitest = join(ROOT, "node_modules", ".bin", "vitest");
      const result = await runBounded(
        "sh",
        ["-c", `exec "${vitest}" run --root "${dir}" --reporter=default --reporter="${reporter}" 2> "${out}"`],
        { limitSeconds: 8, graceSeconds: 10, cwd: dir },
      );
      expect(result.timedOut).toBe(true);
      expect(readFileSync(out, "utf8")).toMatch(
        /vitest stopped; test files still running: cases\/hangs\.test\.mjs \(\d+ s\)\n/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
