// The failed tests of a vitest JSON report, a line each, for npm test's summary: CI shows only
// the tail of a run's output, and "1 failed" without its name leaves a flaky test to be found
// again by running the whole suite until it fails.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const MESSAGE_CHARS = 240;

/**
 * One line per failed test of `report` (vitest's `--reporter=json` output): its file relative to
 * `root`, its full name, and the first line of its first failure message, cut to a few hundred
 * characters. A file that failed without a failed test (an import error) is named by its message.
 */
export function failedTestLines(report, root) {
  const lines = [];
  for (const file of report.testResults ?? []) {
    const where = relative(root, file.name ?? "");
    const failed = (file.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const test of failed) lines.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    if (failed.length === 0 && file.status === "failed") lines.push(`${where}: ${firstLine(file.message)}`);
  }
  return lines;
}

/**
 * npm test's summary of its vitest runs, from the JSON reports they wrote to `files`: the tests
 * counted over them all (null when a run did not get far enough to write its report; its step
 * failed), and {@link failedTestLines} of every report read, those after a missing one included:
 * a workerd run that hung twice must not hide which Node tests failed.
 */
export function summarizeReports(files, root) {
  let tests = { passed: 0, failed: 0, skipped: 0 };
  const failedTests = [];
  for (const file of files) {
    let report;
    try {
      report = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      // That vitest run did not get far enough to write its report; its step failed above.
      tests = null;
      continue;
    }
    if (tests) {
      tests.passed += report.numPassedTests;
      tests.failed += report.numFailedTests;
      tests.skipped += report.numPendingTests ?? 0;
    }
    failedTests.push(...failedTestLines(report, root));
  }
  return { tests, failedTests };
}

function firstLine(message) {
  const line =
    String(message ?? "")
      .trim()
      .split("\n")[0] ?? "";
  return line.length > MESSAGE_CHARS ? `${line.slice(0, MESSAGE_CHARS)}…` : line;
}
