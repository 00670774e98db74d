// A Vitest reporter for `npm test`: when the run is stopped (SIGTERM, as npm test's time limit
// does to a hung suite, scripts/lib/bounded-run.mjs), it names the test files still running
// and for how long, so a hang points at its file. Vitest itself exits on SIGTERM saying nothing.
// It can only speak if vitest's main event loop is free: in CI's hangs it was blocked and this
// said nothing, which is why npm test also reads progress-reporter.mjs's file from outside.
import { relative } from "node:path";

export default class RunningFilesReporter {
  /** @type {Map<string, number>} module id -> when it started (performance.now()) */
  running = new Map();

  onInit() {
    process.once("SIGTERM", () => {
      const now = performance.now();
      const files = [...this.running].map(
        ([id, at]) => `${relative(process.cwd(), id)} (${((now - at) / 1000).toFixed(0)} s)`,
      );
      process.stderr.write(
        files.length > 0
          ? `\nvitest stopped; test files still running: ${files.join(", ")}\n`
          : "\nvitest stopped with no test file running (hung before or after the files)\n",
      );
      process.exit(143);
    });
  }

  /** @param {{ moduleId: string }} testModule */
  onTestModuleQueued(testModule) {
    this.running.set(testModule.moduleId, performance.now());
  }

  /** @param {{ moduleId: string }} testModule */
  onTestModuleEnd(testModule) {
    this.running.delete(testModule.moduleId);
  }
}
