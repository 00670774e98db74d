// npm test's hang bound for a test suite with a progress file (scripts/lib/bounded-run.mjs,
// scripts/lib/check-limits.mjs): the suite is hung when the file records nothing for the idle
// bound, not when it has run long. On a loaded machine the Node suite was stopped at its old
// 10-minute total with its last event 1 s old, and run again for nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCheck, stopReason } from "../../scripts/lib/bounded-run.mjs";
import { CAP_MINUTES, IDLE_MINUTES, limitsOf } from "../../scripts/lib/check-limits.mjs";

const MIN = 60_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});
function progressFile() {
  const dir = mkdtempSync(join(tmpdir(), "bounded-run-idle-"));
  dirs.push(dir);
  return join(dir, "progress.jsonl");
}
/** What runCheck printed on stderr, joined. */
function stderr() {
  const printed: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: string) => void printed.push(line));
  return () => printed.join("\n");
}
/** A fake vitest: appends an event every 0.2 s, `seconds` long (then exits 0), or forever. */
const reporting = (file: string, seconds?: number) => ({
  name: "reports",
  cmd: "sh",
  args: [
    "-c",
    seconds === undefined
      ? `trap '' TERM; while :; do echo '{}' >> ${file}; sleep 0.2; done`
      : `end=$(($(date +%s) + ${seconds})); while [ $(date +%s) -lt $end ]; do echo '{}' >> ${file}; sleep 0.2; done; exit 0`,
  ],
});
/** A fake vitest that records one event, then hangs without another (and ignores SIGTERM). */
const silent = (file: string) => ({
  name: "goes silent",
  cmd: "sh",
  args: ["-c", `echo '{}' >> ${file}; trap '' TERM; sleep 300`],
});

describe("npm test's limits of a test suite", () => {
  it("does not stop the Node suite that ran 11 minutes with its last event 1 s old (the stop seen on a loaded machine)", () => {
    const limits = limitsOf({ size: "tests", progress: "/tmp/p.jsonl" }, {});
    const at = { startedAt: 0, ...limits };
    expect(stopReason({ ...at, now: 11 * MIN, lastEventAt: 11 * MIN - 1000 })).toBeNull();
    // Silent for the idle bound: hung, however long it has run.
    expect(stopReason({ ...at, now: 11 * MIN, lastEventAt: 11 * MIN - IDLE_MINUTES * MIN })).toEqual({
      bound: "idle",
      seconds: IDLE_MINUTES * 60,
    });
    // Reporting all along, but past the backstop: stopped for its total.
    expect(stopReason({ ...at, now: CAP_MINUTES * MIN, lastEventAt: CAP_MINUTES * MIN - 1000 })).toEqual({
      bound: "total",
      seconds: CAP_MINUTES * 60,
    });
  });

  it("counts silence from the run's start when the file is older (an earlier run's, before run-again) or absent", () => {
    const at = { limitSeconds: 600, idleSeconds: 60, startedAt: 10 * MIN };
    expect(stopReason({ ...at, now: 10.5 * MIN, lastEventAt: 1000 })).toBeNull();
    expect(stopReason({ ...at, now: 10.5 * MIN, lastEventAt: null })).toBeNull();
    expect(stopReason({ ...at, now: 11 * MIN, lastEventAt: null })?.bound).toBe("idle");
  });

  it("keeps one total limit for a step without a progress file; PLINTH_CHECK_MINUTES sets every total", () => {
    expect(limitsOf({}, {})).toEqual({ limitSeconds: 300 });
    expect(limitsOf({ size: "install" }, {})).toEqual({ limitSeconds: 900 });
    expect(limitsOf({ size: "quick" }, { PLINTH_CHECK_MINUTES: "20" })).toEqual({ limitSeconds: 1200 });
    expect(limitsOf({ size: "tests", progress: "p" }, { PLINTH_CHECK_MINUTES: "60" })).toEqual({
      limitSeconds: 3600,
      idleSeconds: IDLE_MINUTES * 60,
      progressFile: "p",
    });
    // Never an idle bound longer than the total it backs up.
    expect(limitsOf({ size: "tests", progress: "p" }, { PLINTH_CHECK_MINUTES: "2" }).idleSeconds).toBe(120);
    // The idle bound is above the longest single test or hook timeout in the suites (7 min).
    expect(IDLE_MINUTES).toBeGreaterThan(7);
  });
});

describe("npm test's bounded run of a suite with a progress file", () => {
  it("lets a suite that keeps reporting run past the idle bound to its end", async () => {
    const file = progressFile();
    const said = stderr();
    const result = await runCheck(reporting(file, 4), {
      limitSeconds: 30,
      idleSeconds: 1,
      progressFile: file,
      graceSeconds: 1,
      runAgainIfHung: true,
    });
    expect(result).toEqual({ code: 0, notes: [] });
    expect(said()).toBe("");
  }, 30_000);

  it("stops a suite whose progress file goes silent, long before its total, and says which bound", async () => {
    const file = progressFile();
    const said = stderr();
    const started = performance.now();
    const result = await runCheck(silent(file), {
      limitSeconds: 60,
      idleSeconds: 1,
      progressFile: file,
      graceSeconds: 1,
      describeHang: () => ["where it was"],
    });
    expect(result).toEqual({ code: 124, notes: ["timed out"] });
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(said()).toMatch(
      /✗ goes silent: no test event for 0 min; stopping it\.\n {4}where it was\n {2}Its processes/,
    );
  }, 30_000);

  it("still stops a suite that reports forever at its total limit, saying so", async () => {
    const file = progressFile();
    const said = stderr();
    const result = await runCheck(reporting(file), {
      limitSeconds: 2,
      idleSeconds: 1,
      progressFile: file,
      graceSeconds: 1,
    });
    expect(result).toEqual({ code: 124, notes: ["timed out"] });
    expect(said()).toMatch(/✗ reports: still running after 0 min \(its total limit\); stopping it\./);
  }, 30_000);
});
