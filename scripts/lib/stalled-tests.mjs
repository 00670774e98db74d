// What a hung vitest run was doing, read from the progress file its progress reporter
// (scripts/lib/progress-reporter.mjs) appended to, for npm test's report of a hung step.
//
// Why a file: in today's CI hangs vitest's main process (where the workers pool runs
// Miniflare) was blocked in a system call and never ran its SIGTERM handler, so nothing it
// could say when stopped got said. Lines appended synchronously as the run goes are on disk
// whatever the process does afterwards, and npm test reads them from outside.
//
// The file holds one JSON object a line: { at (ms since the epoch), event, file?, id?, test?,
// state? }, with events run-start, file-start (a worker took the file), file-loaded (its
// tests are collected), file-end, test-start (before its beforeEach hooks), test-end, run-end
// (every file done; what follows is teardown). `at` is when vitest's main process heard of the
// event: workers send their tests' progress in batches, a fraction of a second apart.

/**
 * One progress line for `event`, newline included.
 * @param {number} at ms since the epoch
 * @param {string} event
 * @param {{ file?: string, id?: string, test?: string, state?: string }} [fields]
 */
export function progressLine(at, event, fields = {}) {
  return `${JSON.stringify({ at, event, ...fields })}\n`;
}

/**
 * @typedef {object} StalledFile
 * @property {string} file path relative to the repository
 * @property {number} startedAt
 * @property {boolean} loaded whether its tests were collected (false: it hung while importing)
 * @property {{ test: string, startedAt: number }[]} tests tests started and not ended, in start order
 */

/**
 * The test files of a progress file's `text` started and not ended, each with its tests started
 * and not ended; when the last event of any kind was and when the run ended (null when there was
 * none); whether any file started. A line cut short (the run was killed while writing it) or
 * not JSON is skipped.
 * @param {string} text
 * @returns {{ lastEventAt: number | null, runEndedAt: number | null, anyFileStarted: boolean, files: StalledFile[] }}
 */
export function stalledTests(text) {
  /** @type {Map<string, { file: string, startedAt: number, loaded: boolean, tests: Map<string, { test: string, startedAt: number }> }>} */
  const files = new Map();
  let lastEventAt = null;
  let runEndedAt = null;
  let anyFileStarted = false;
  for (const line of text.split("\n")) {
    const event = parse(line);
    if (!event) continue;
    lastEventAt = event.at;
    const file = event.file === undefined ? undefined : files.get(event.file);
    switch (event.event) {
      case "file-start":
        if (typeof event.file !== "string") break;
        anyFileStarted = true;
        files.set(event.file, { file: event.file, startedAt: event.at, loaded: false, tests: new Map() });
        break;
      case "file-loaded":
        if (file) file.loaded = true;
        break;
      case "file-end":
        files.delete(event.file);
        break;
      case "test-start":
        file?.tests.set(event.id ?? event.test, { test: event.test ?? "?", startedAt: event.at });
        break;
      case "test-end":
        file?.tests.delete(event.id ?? event.test);
        break;
      case "run-end":
        runEndedAt = event.at;
        break;
    }
  }
  return {
    lastEventAt,
    runEndedAt,
    anyFileStarted,
    files: [...files.values()].map((f) => ({ ...f, tests: [...f.tests.values()] })),
  };
}

/**
 * npm test's lines for a hung vitest run from its progress file's `text` (null: there was no
 * file), as of `now` (ms since the epoch): each test file still running with its tests still
 * running and how long ago each started, and how long ago vitest last reported anything.
 * @param {string | null} text
 * @param {number} now
 * @returns {string[]}
 */
export function describeStalled(text, now) {
  if (text === null) return ["vitest wrote no progress (it hung before its reporters started)"];
  const { lastEventAt, runEndedAt, anyFileStarted, files } = stalledTests(text);
  const ago = (at) => `${duration(now - at)} ago`;
  const lines = [`vitest's last event: ${lastEventAt === null ? "none" : ago(lastEventAt)}`];
  if (runEndedAt !== null && files.length === 0) {
    lines.push(
      `every test file ended and the run with them, ${ago(runEndedAt)}: hung after it (teardown: global setup, pools, Miniflare)`,
    );
  } else if (!anyFileStarted) lines.push("no test file has started");
  else if (files.length === 0)
    lines.push("no test file was running (between files, or after the last before the run ended)");
  for (const f of files) {
    const where = f.loaded ? "" : ", still loading";
    lines.push(`test file still running: ${f.file} (started ${ago(f.startedAt)}${where})`);
    for (const t of f.tests) lines.push(`  test still running: ${t.test} (started ${ago(t.startedAt)})`);
    if (f.loaded && f.tests.length === 0)
      lines.push("  no test running (in a beforeAll/afterAll hook, or between tests)");
  }
  return lines;
}

function parse(line) {
  if (line.trim() === "") return null;
  try {
    const event = JSON.parse(line);
    return typeof event?.at === "number" && typeof event.event === "string" ? event : null;
  } catch {
    return null;
  }
}

function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
