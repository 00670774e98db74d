// The platform's job commands (root key): every registered job with its schedule and last
// run, and running one now to print what it found.
import { asJson, platform, printRecord } from "./command-kit.mjs";
import { CliError, call, EXIT, record, table } from "./remote.mjs";

/** The widest a RESULT cell gets: a glance at the summary (`jobs run` or --json print it whole). */
const RESULT_WIDTH = 48;

/** A run's summary as its JSON, cut to RESULT_WIDTH with an ellipsis; none as null ("-"). */
function summaryCell(/** @type {Record<string, unknown> | null | undefined} */ result) {
  if (!result) return null;
  const json = JSON.stringify(result);
  return json.length <= RESULT_WIDTH ? json : `${json.slice(0, RESULT_WIDTH - 1)}…`;
}

/** @type {import("./remote-commands.mjs").Command[]} */
export const jobCommands = [
  {
    name: "jobs list",
    args: "",
    summary: "every registered job: cron, next due time, running, last run and what it found",
    auth: "platform",
    positionals: 0,
    async run(run) {
      const body = await call(run.url, platform(run).GET("/api/v1/platform/jobs"));
      if (run.values.json) return run.print(asJson(body));
      run.print(
        table(body.items, [
          ["job", (j) => `${j.module}/${j.job}`],
          ["cron", (j) => j.cron],
          ["next due", (j) => j.next_due],
          ["running", (j) => (j.running ? `since ${j.running.started_at}` : null)],
          ["last run", (j) => (j.last_run ? `${j.last_run.outcome} ${j.last_run.finished_at}` : null)],
          ["last success", (j) => j.last_success],
          // What the last run found, which only --json had: enough to see whether it found anything.
          ["result", (j) => summaryCell(j.last_run?.result)],
        ]),
      );
    },
  },
  {
    name: "jobs run",
    args: "<module> <job>",
    summary: "run a job now, wait for its run and print what it found (exit 1 when the run failed)",
    auth: "platform",
    positionals: 2,
    // The request answers when the run ends.
    long: true,
    async run(run) {
      const [module = "", job = ""] = run.positionals;
      const pending = platform(run).POST("/api/v1/platform/jobs/{module}/{job}/run", {
        params: { path: { module, job } },
      });
      const body = await call(run.url, pending);
      printRecord(run, body, ["outcome", "trigger", "fire_time", "started_at", "duration_ms", "error"]);
      // What the run found (the dead-letter report's counts), which its log line alone said before.
      if (!run.values.json && body.result) {
        run.print("result");
        const fields = Object.keys(body.result);
        if (fields.length > 0) run.print(record(body.result, fields).replace(/^/gm, "  "));
      }
      if (body.outcome !== "ok") throw new CliError(`${module}/${job} ${body.outcome}: ${body.error ?? ""}`, EXIT.api);
    },
  },
];
