// What npm test says about a hung vitest run (scripts/lib/stalled-tests.mjs), read from the
// progress file its progress reporter wrote: in CI's hangs vitest's main process was blocked
// and said nothing when stopped, so this file is all there is to say where it hung.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeStalled, progressLine, stalledTests } from "../../scripts/lib/stalled-tests.mjs";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * Runs vitest with npm test's reporters on a suite of its own made of `files` (inside the
 * repository, so `vitest` resolves; its tests are .mjs, which the Node suite does not take),
 * stops it (SIGTERM, as npm test's limit does) once its progress file satisfies `hung`, and
 * returns that file and its stderr. Waiting for the state rather than for a fixed time: on a
 * loaded CI machine vitest took most of a 10 s limit to start, and the run was stopped before
 * its hung test had begun.
 */
async function runHungSuite(files: Record<string, string>, hung: (progress: string) => boolean) {
  const dir = mkdtempSync(join(ROOT, "test", "node", ".hang-"));
  try {
    mkdirSync(join(dir, "cases"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const progress = join(dir, "progress.jsonl");
    const reporters = ["running-files-reporter.mjs", "progress-reporter.mjs"].map(
      (name) => `--reporter=${join(ROOT, "scripts", "lib", name)}`,
    );
    const vitest = join(ROOT, "node_modules", ".bin", "vitest");
    const child = spawn(vitest, ["run", "--root", dir, "--reporter=default", ...reporters], {
      cwd: dir,
      env: { ...process.env, PLINTH_VITEST_PROGRESS: progress },
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const read = () => (existsSync(progress) ? readFileSync(progress, "utf8") : "");
    try {
      const deadline = Date.now() + 60_000;
      while (!hung(read())) {
        if (Date.now() > deadline) throw new Error(`the suite never reached the state awaited:\n${read()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    } finally {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is already gone.
      }
    }
    await exited;
    return { text: read(), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HANG = "new Promise(() => setInterval(() => {}, 1000))";

describe("the tests a hung vitest run was in, from its progress file", () => {
  it("names the hung test and the file hung while loading, from a real vitest run stopped while hung", async () => {
    // A test that hangs after one that passes, a file that hangs while loading, and a file
    // that passes; workers enough to run all three at once.
    const started = Date.now();
    const { text, stderr } = await runHungSuite(
      {
        "vitest.config.mjs": 'export default { test: { include: ["cases/*.test.mjs"], maxWorkers: 3 } };\n',
        "cases/hangs.test.mjs": [
          'import { describe, it } from "vitest";',
          'describe("suite", () => {',
          '  it("passes first", () => {});',
          `  it("hangs", () => ${HANG}, 600_000);`,
          '  it("never reached", () => {});',
          "});",
          "",
        ].join("\n"),
        "cases/loading.test.mjs": `import { it } from "vitest";\nawait ${HANG};\nit("never", () => {});\n`,
        "cases/passes.test.mjs": 'import { it } from "vitest";\nit("passes", () => {});\n',
      },
      (progress) => {
        // Stopped once the hung test has begun, the loading file has started and the passing one ended.
        const { files: open } = stalledTests(progress);
        return (
          open.some((f) => f.tests.some((t) => t.test === "suite > hangs")) &&
          open.some((f) => f.file === "cases/loading.test.mjs") &&
          progress.includes("cases/passes.test.mjs") &&
          !open.some((f) => f.file === "cases/passes.test.mjs")
        );
      },
    );

    const { lastEventAt, files } = stalledTests(text);
    expect(lastEventAt).toBeGreaterThanOrEqual(started);
    expect(lastEventAt).toBeLessThanOrEqual(Date.now());
    const summary = files
      .map((f) => ({ file: f.file, loaded: f.loaded, tests: f.tests.map((t) => t.test) }))
      .sort((a, b) => a.file.localeCompare(b.file));
    expect(summary).toEqual([
      { file: "cases/hangs.test.mjs", loaded: true, tests: ["suite > hangs"] },
      { file: "cases/loading.test.mjs", loaded: false, tests: [] },
    ]);

    const lines = describeStalled(text, Date.now());
    expect(lines[0]).toMatch(/^vitest's last event: \d+ s ago$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^test file still running: cases\/hangs\.test\.mjs \(started \d+ s ago\)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}test still running: suite > hangs \(started \d+ s ago\)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^test file still running: cases\/loading\.test\.mjs \(started \d+ s ago, still loading\)$/,
      ),
    );
    expect(lines.join("\n")).not.toMatch(/passes/);
    // The reporter's SIGTERM line still comes where the main process is free to say it.
    expect(stderr).toMatch(/vitest stopped; test files still running: /);
  }, 90_000);

  it("says a run hung after every file ended, in teardown, from a real vitest run stopped while hung", async () => {
    // A global setup whose teardown never ends, as Miniflare's dispose has not (workerd#6763).
    const { text } = await runHungSuite(
      {
        "vitest.config.mjs":
          'export default { test: { include: ["cases/*.test.mjs"], globalSetup: ["./setup.mjs"] } };\n',
        "setup.mjs": `export default () => () => ${HANG};\n`,
        "cases/passes.test.mjs": 'import { it } from "vitest";\nit("passes", () => {});\n',
      },
      (progress) => progress.includes('"event":"run-end"'),
    );
    expect(stalledTests(text).files).toEqual([]);
    const lines = describeStalled(text, Date.now());
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^every test file ended and the run with them, \d+ s ago: hung after it \(teardown/);
  }, 90_000);

  it("says a file hung in a hook, skips a line cut short, and when vitest last said anything", () => {
    const t0 = 1_000_000;
    const text = [
      progressLine(t0, "run-start"),
      progressLine(t0 + 1000, "file-start", { file: "test/a.test.ts" }),
      progressLine(t0 + 2000, "file-loaded", { file: "test/a.test.ts" }),
      progressLine(t0 + 3000, "test-start", { file: "test/a.test.ts", id: "1", test: "a > one" }),
      progressLine(t0 + 4000, "test-end", { file: "test/a.test.ts", id: "1", test: "a > one", state: "passed" }),
      // Killed while writing this line:
      '{"at":1005000,"event":"test-st',
    ].join("");
    expect(describeStalled(text, t0 + 4000 + 125_000)).toEqual([
      "vitest's last event: 2 min 5 s ago",
      "test file still running: test/a.test.ts (started 2 min 8 s ago)",
      "  no test running (in a beforeAll/afterAll hook, or between tests)",
    ]);
    expect(describeStalled(progressLine(t0, "run-start"), t0 + 5000)).toEqual([
      "vitest's last event: 5 s ago",
      "no test file has started",
    ]);
    const ended = [
      progressLine(t0, "run-start"),
      progressLine(t0 + 1000, "file-start", { file: "test/a.test.ts" }),
      progressLine(t0 + 2000, "file-end", { file: "test/a.test.ts" }),
    ];
    expect(describeStalled(ended.join(""), t0 + 7000)).toEqual([
      "vitest's last event: 5 s ago",
      "no test file was running (between files, or after the last before the run ended)",
    ]);
    expect(describeStalled([...ended, progressLine(t0 + 3000, "run-end")].join(""), t0 + 7000)).toEqual([
      "vitest's last event: 4 s ago",
      "every test file ended and the run with them, 4 s ago: hung after it (teardown: global setup, pools, Miniflare)",
    ]);
    expect(describeStalled(null, t0)).toEqual(["vitest wrote no progress (it hung before its reporters started)"]);
  });
});
