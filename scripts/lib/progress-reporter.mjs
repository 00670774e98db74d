// A Vitest reporter for `npm test`: appends a line per file and test started and ended to the
// file named by PLINTH_VITEST_PROGRESS (does nothing without it), so that when a run hangs npm
// test can say which tests it hung in without asking the hung process anything
// (scripts/lib/stalled-tests.mjs reads the file; it says why). Writes are synchronous, so a line
// is on disk before vitest goes on; a few thousand lines a run.
import { appendFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { progressLine } from "./stalled-tests.mjs";

export default class ProgressReporter {
  /** @type {string | undefined} */
  path = process.env.PLINTH_VITEST_PROGRESS || undefined;

  onInit() {
    // A new file each run: npm test runs a hung suite once more, and the second run's report
    // must not show the first run's files.
    this.write("run-start", {}, writeFileSync);
  }

  /** @param {{ moduleId: string }} testModule */
  onTestModuleQueued(testModule) {
    this.write("file-start", { file: where(testModule) });
  }

  /** @param {{ moduleId: string }} testModule */
  onTestModuleCollected(testModule) {
    this.write("file-loaded", { file: where(testModule) });
  }

  /** @param {{ moduleId: string }} testModule */
  onTestModuleEnd(testModule) {
    this.write("file-end", { file: where(testModule) });
  }

  /** @param {{ id: string, fullName: string, module: { moduleId: string } }} testCase */
  onTestCaseReady(testCase) {
    this.write("test-start", { file: where(testCase.module), id: testCase.id, test: testCase.fullName });
  }

  /** @param {{ id: string, fullName: string, module: { moduleId: string }, result(): { state: string } }} testCase */
  onTestCaseResult(testCase) {
    const fields = { file: where(testCase.module), id: testCase.id, test: testCase.fullName };
    this.write("test-end", { ...fields, state: testCase.result().state });
  }

  /** @param {unknown} _modules @param {unknown} _errors @param {string} reason */
  onTestRunEnd(_modules, _errors, reason) {
    this.write("run-end", { state: reason });
  }

  write(event, fields, writeTo = appendFileSync) {
    if (!this.path) return;
    try {
      writeTo(this.path, progressLine(Date.now(), event, fields));
    } catch (error) {
      // A diagnostic must not fail the run it watches: say so once and stop writing.
      process.stderr.write(`progress reporter: cannot write ${this.path}: ${error.message}\n`);
      this.path = undefined;
    }
  }
}

const where = (testModule) => relative(process.cwd(), testModule.moduleId);
