#!/usr/bin/env node
// `npm test`: every check the repository has, in order of cost. Runs them all
// (so one run shows every failure), prints a summary, exits non-zero if any failed.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCheck } from "./lib/bounded-run.mjs";
import { limitsOf } from "./lib/check-limits.mjs";
import { bin, offlineEnv, root } from "./lib/env.mjs";
import { summarizeReports } from "./lib/failed-tests.mjs";
import { describeStalled } from "./lib/stalled-tests.mjs";

const tmp = mkdtempSync(join(tmpdir(), "plinth-check-"));
const vitestJson = join(tmp, "vitest.json");
const nodeJson = join(tmp, "vitest-node.json");
const otelJson = join(tmp, "vitest-otel.json");

// Every check has a time limit far above what it takes, and a test suite is stopped when its
// progress file records no test event for 8 minutes, however long it has run
// (scripts/lib/check-limits.mjs says why and how long), so a hung check ends with its process
// tree on screen instead of holding CI to its own limit; PLINTH_CHECK_MINUTES sets every
// check's total limit. A vitest run that hangs (rather than failing: a hung test fails at
// vitest's testTimeout) is the runner's or the simulator's, not a test's verdict, so it is run
// once more, and the summary says so. Known upstream, and not fixed in what runs on Node 20
// (vitest-pool-workers 0.15.1, TOOLCHAIN.md): workerd crashing at shutdown under the pool,
// after which Miniflare's dispose never settles (workerd#6763); teardown hangs fixed in
// pool-workers 0.22 (workers-sdk#15085); a stall between two files (workers-sdk#15498, open; the
// one seen here, a message the pool dropped, is mended by scripts/patch-deps.mjs).

// Names the test files still running when a hung suite is stopped (vitest says nothing then).
// The progress reporter appends each file's and test's start and end to the step's `progress`
// file (PLINTH_VITEST_PROGRESS): its silence is what counts as a hang, and it is read when the
// step hangs: in CI's hangs vitest's main process was blocked and never said anything at
// SIGTERM, so only what is already on disk tells where.
const RUNNING = "--reporter=./scripts/lib/running-files-reporter.mjs";
const PROGRESS = "--reporter=./scripts/lib/progress-reporter.mjs";

const steps = [
  { name: "generated files up to date", cmd: process.execPath, args: ["scripts/generate.mjs", "--check"] },
  // Rebuilds wasm/core.wasm from source with the Zig in node_modules and fails if the committed one differs.
  { name: "wasm core reproducible (zig build)", cmd: process.execPath, args: ["wasm/build.mjs", "--check"] },
  { name: "typecheck (tsc)", cmd: bin("tsc"), args: ["--noEmit", "-p", "tsconfig.json"] },
  // The Node tests drive Debian's Chromium and promtool (scripts/lib/debian-tools.mjs); installed here when missing.
  {
    name: "chromium and promtool for the Node tests",
    size: "install",
    cmd: process.execPath,
    args: ["scripts/lib/debian-tools.mjs"],
  },
  { name: "lint + format (biome)", cmd: bin("biome"), args: ["ci", "."] },
  {
    name: "tests in workerd (vitest)",
    size: "tests",
    cmd: bin("vitest"),
    args: ["run", "--reporter=default", RUNNING, PROGRESS, "--reporter=json", `--outputFile.json=${vitestJson}`],
    progress: join(tmp, "vitest-progress.jsonl"),
  },
  // Tracing is decided once per isolate, so the traced suite is its own run: an in-process
  // OTLP receiver, and the span tree of a blog create (vitest.otel.config.ts).
  {
    name: "tests in workerd with tracing on (vitest, test/otel)",
    size: "tests",
    cmd: bin("vitest"),
    args: [
      "run",
      "-c",
      "vitest.otel.config.ts",
      "--reporter=default",
      RUNNING,
      PROGRESS,
      "--reporter=json",
      `--outputFile.json=${otelJson}`,
    ],
    progress: join(tmp, "vitest-otel-progress.jsonl"),
  },
  {
    name: "tests in Node (vitest)",
    size: "tests",
    cmd: bin("vitest"),
    args: [
      "run",
      "-c",
      "vitest.node.config.ts",
      "--reporter=default",
      RUNNING,
      PROGRESS,
      "--reporter=json",
      `--outputFile.json=${nodeJson}`,
    ],
    progress: join(tmp, "vitest-node-progress.jsonl"),
  },
  {
    name: "bundle (wrangler deploy --dry-run)",
    cmd: bin("wrangler"),
    args: ["deploy", "--dry-run", "--outdir", "dist", "--env", "production"],
  },
];

const results = [];
for (const step of steps) {
  console.log(`\n▶ ${step.name}`);
  const started = Date.now();
  const { code, notes } = await runCheck(step, {
    cwd: root,
    env: step.progress ? { ...offlineEnv, PLINTH_VITEST_PROGRESS: step.progress } : offlineEnv,
    ...limitsOf(step),
    runAgainIfHung: step.size === "tests" && step.cmd === bin("vitest"),
    describeHang: step.progress ? () => describeStalled(readIfThere(step.progress), Date.now()) : undefined,
  });
  results.push({ name: step.name, ok: code === 0, seconds: (Date.now() - started) / 1000, note: notes.join(", ") });
}

function readIfThere(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

const { tests, failedTests } = summarizeReports([vitestJson, otelJson, nodeJson], root);
rmSync(tmp, { recursive: true, force: true });

console.log("\nplinth checks:");
for (const r of results) {
  const note = r.note ? `; ${r.note}` : "";
  console.log(`  ${r.ok ? "ok  " : "FAIL"}  ${r.name} (${r.seconds.toFixed(1)} s${note})`);
}
const failedSteps = results.filter((r) => !r.ok).length;
// Last, so that a CI page showing only the tail of the run still names what failed.
const SHOWN = 10;
if (failedTests.length > 0) {
  console.log("failed tests:");
  for (const line of failedTests.slice(0, SHOWN)) console.log(`  ${line}`);
  if (failedTests.length > SHOWN) console.log(`  … and ${failedTests.length - SHOWN} more (above)`);
}
if (tests) console.log(`tests: ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`);
console.log(`checks: ${results.length - failedSteps} passed, ${failedSteps} failed`);
process.exit(failedSteps === 0 && tests !== null ? 0 : 1);
