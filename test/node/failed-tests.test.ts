// npm test's summary names each failed test (scripts/lib/failed-tests.mjs), read from a report
// written by vitest itself, so the summary follows vitest's real JSON shape, not a copy of it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { failedTestLines, summarizeReports } from "../../scripts/lib/failed-tests.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "plinth-failed-tests-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs vitest on `files` in a folder of their own; returns its JSON report. */
function vitestReport(files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const out = join(dir, "report.json");
  try {
    execFileSync(
      join(ROOT, "node_modules", ".bin", "vitest"),
      ["run", "--root", dir, "--globals", "--reporter=json", `--outputFile.json=${out}`],
      { cwd: dir, stdio: "ignore", env: { ...process.env, CI: "true" } },
    );
  } catch {
    // vitest exits 1 when a test failed, which these do on purpose
  }
  return JSON.parse(readFileSync(out, "utf8"));
}

describe("the failed tests in npm test's summary", () => {
  it("names the file, the full name and the first line of the message of each failed test, and no passed one", () => {
    const report = vitestReport({
      "a.test.mjs": [
        'describe("outer", () => {',
        '  test("passes", () => expect(1).toBe(1));',
        '  test("fails", () => expect({ a: 1 }).toEqual({ a: 2 }));',
        "});",
        "",
      ].join("\n"),
      "b.test.mjs": `throw new Error("${"x".repeat(400)}");\n`,
    });
    const lines = failedTestLines(report, dir);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^a\.test\.mjs > outer fails: AssertionError: expected \{ a: 1 \} to deeply equal \{ a: 2 \}$/,
    );
    // A file that failed to load has no test to name; its error is cut short.
    expect(lines[1]).toMatch(/^b\.test\.mjs: (Error: )?x+…$/);
    expect(lines[1]?.length).toBeLessThan(300);
  });

  it("prints nothing for a report in which everything passed", () => {
    const report = vitestReport({
      "a.test.mjs": 'test("passes", () => expect(1).toBe(1));\n',
      "b.test.mjs": 'test("too", () => {});\n',
    });
    expect(report.numPassedTests).toBe(2);
    expect(failedTestLines(report, dir)).toEqual([]);
  });

  it("names the failed tests of every report written, when an earlier run wrote none", () => {
    const report = vitestReport({
      "a.test.mjs": 'test("fails", () => expect(1).toBe(2));\n',
    });
    const written = join(dir, "written.json");
    writeFileSync(written, JSON.stringify(report));
    // The workerd run hung twice (or crashed) before its report: the Node run's failure is still named.
    const summary = summarizeReports([join(dir, "never-written.json"), written], dir);
    expect(summary.tests).toBeNull();
    expect(summary.failedTests).toEqual([expect.stringMatching(/^a\.test\.mjs > fails: AssertionError/)]);
  });
});
