// The replay commands (root key), page by page with progress through replay.mjs: the
// writers' events to one subscription, and the audit chains into their read model.
import { asJson, platform } from "./command-kit.mjs";
import { replay, replayBudget } from "./replay.mjs";

/**
 * Runs a replay (or a rebuild) for a command: progress lines for a person, the total as JSON
 * with --json, warnings through the run's stderr (one JSON line each under --json).
 *
 * @param {import("./remote-commands.mjs").Run} run
 * @param {string} consumer
 * @param {boolean} rebuild
 * @param {{ limit: number, maxEvents: number }} budget
 */
async function replayRun(run, consumer, rebuild, { limit, maxEvents }) {
  /** Where the run goes on from: the last answer's `next`, else the `--after` it was given. */
  let after = run.values.after;
  const stopped = stopLine(run, () => after);
  try {
    const total = await replay({
      client: platform(run),
      url: run.url,
      consumer,
      tenant: run.values.tenant,
      rebuild,
      limit,
      maxEvents,
      after,
      print: run.values.json ? () => {} : run.print,
      warn: (line, warning) => run.stderr.warn(warning, line),
      onCall: (answer) => {
        after = answer.next ?? after;
      },
    });
    if (run.values.json) run.print(asJson(total));
  } finally {
    stopped.off();
  }
}

/** Exit codes of a run stopped by a signal, as a shell reports them (128 + the signal's number). */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };

/**
 * While a replay runs, a stop (Ctrl-C, a kill) says where to go on from, as a failed call does:
 * the calls answered are applied and recorded, and the one under way may be too (a run from
 * the same cursor finds its events recorded and skips them).
 *
 * @param {import("./remote-commands.mjs").Run} run
 * @param {() => string | undefined} cursor
 */
function stopLine(run, cursor) {
  const handlers = Object.entries(SIGNAL_EXIT).map(([signal, code]) => {
    const handler = () => {
      const after = cursor();
      const resume =
        after === undefined
          ? "run it again: what it applied is recorded"
          : `resume with --after ${JSON.stringify(after)}`;
      run.stderr.fail(code, `stopped by ${signal}\n${resume}`, after === undefined ? {} : { resume_after: after });
      process.exit(code);
    };
    process.once(signal, handler);
    return /** @type {const} */ ([signal, handler]);
  });
  return {
    off: () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}

/** @type {import("./remote-commands.mjs").Command} */
export const eventsReplay = {
  name: "events replay",
  args: "<module:subscription> [--tenant <id>] [--rebuild] [--limit <n>] [--max-events <n>] [--after <cursor>]",
  summary: "replay the writers' events to one subscription, page by page, with progress",
  auth: "platform",
  positionals: 1,
  pages: true,
  inBody: true,
  long: true,
  options: {
    tenant: { type: "string", arg: "<id>", help: "only this tenant's streams" },
    rebuild: {
      type: "boolean",
      help: "every event again, not only those the subscription has not seen (audit:log, files:files.files: copied from their objects' state)",
    },
    limit: {
      type: "string",
      arg: "<n>",
      help: "streams (tenants, for a rebuild from state) per call, 1 to 500 (default 50)",
    },
    "max-events": {
      type: "string",
      arg: "<n>",
      help: "events per call at most, 1 to 5000 (default 5000; a longer stream goes on in the next call)",
    },
    after: {
      type: "string",
      arg: "<cursor>",
      help: "go on from where an earlier run stopped (its last `after`, or its `resume with --after`); a cursor naming no stream of the subscription's writers (mistyped) is refused, exit 1",
    },
  },
  async run(run) {
    await replayRun(run, run.positionals[0] ?? "", run.values.rebuild ?? false, replayBudget(run.values));
  },
};

/** @type {import("./remote-commands.mjs").Command} */
export const auditRebuild = {
  name: "audit rebuild",
  args: "[--tenant <id>] [--limit <n>] [--max-entries <n>] [--after <cursor>]",
  summary:
    "copy the tenants' audit chains into the read model (audit_entries) where rows are missing or differ, page by page, with progress",
  auth: "platform",
  positionals: 0,
  pages: true,
  long: true,
  options: {
    tenant: { type: "string", arg: "<id>", help: "only this tenant (default: every tenant, suspended ones too)" },
    limit: { type: "string", arg: "<n>", help: "tenants per call, 1 to 500 (default 50)" },
    "max-entries": {
      type: "string",
      arg: "<n>",
      help: "entries per call at most, 1 to 5000 (default 5000; a longer chain goes on in the next call)",
    },
    after: { type: "string", arg: "<cursor>", help: "go on from where an earlier run stopped (its last `after`)" },
  },
  // `events replay audit:log --rebuild` under the name an auditor looks for.
  async run(run) {
    await replayRun(run, "audit:log", true, replayBudget(run.values, "max-entries"));
  },
};
