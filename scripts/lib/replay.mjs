// `plinth events replay` and `plinth audit rebuild`: drive POST /api/v1/platform/events/replay
// page by page and print a progress line after each page.
import { CliError, call, EXIT } from "./remote.mjs";

/**
 * The options both commands share, checked before any request: `--limit` (streams, or
 * tenants, per call) and the budget of events (or records) per call, named `budgetFlag`.
 * @param {Record<string, any>} values @param {string} [budgetFlag]
 */
export function replayBudget(values, budgetFlag = "max-events") {
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError("--limit is 1 to 500", EXIT.usage);
  const maxEvents = Number(values[budgetFlag] ?? 5000);
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > 5000) {
    throw new CliError(`--${budgetFlag} is 1 to 5000`, EXIT.usage);
  }
  return { limit, maxEvents };
}

/**
 * The progress line after a call, from the run's totals so far. A replay of events counts
 * streams, events read and applied; a rebuild copied from the objects' state (the audit
 * log's chains) counts tenants, records read and rows written (0 over an intact table).
 */
export function progressLine(consumer, total, seconds, next) {
  const rate = (n, what) => `(${Math.round(n / Math.max(seconds, 0.001))} ${what}/s)`;
  const counts =
    total.source === "state"
      ? `rebuilt from state, ${total.tenants} tenants, ${total.records} records read, ${total.written} rows written ${rate(total.records, "records")}`
      : `${total.streams} streams, ${total.events} events read, ${total.applied} applied ${rate(total.events, "events")}`;
  return `${consumer}: ${counts}${next ? ` … after ${next}` : ", done"}`;
}

/** Adds one answer's counts to the run's totals, which take the answer's kind. */
function tally(total, body) {
  const fields = body.source === "state" ? ["tenants", "records", "written"] : ["streams", "events", "applied"];
  const next = { ...total, source: body.source, calls: total.calls + 1 };
  for (const f of fields) next[f] = (total[f] ?? 0) + body[f];
  return next;
}

/**
 * @param {{ client: import("openapi-fetch").Client<import("../../src/generated/api").paths>, url: string,
 *   consumer: string, tenant?: string, rebuild: boolean, limit: number, maxEvents?: number, after?: string,
 *   print?: (line: string) => void,
 *   warn?: (line: string, warning: import("./cli-stderr.mjs").Warning) => void,
 *   onCall?: (answer: { streams?: number, events?: number, applied?: number }) => void }} options
 *   `onCall` hears each call's answer (the bench keeps the most events one call read); `warn`
 *   hears, once, the event types the replay cannot read, as a line and as a warning (a
 *   command's --json prints the latter; stderr, the line, by default).
 * @returns {Promise<Record<string, number | string>>} the totals: `calls`, `source`, and its counts
 */
export async function replay({
  client,
  url,
  consumer,
  tenant,
  rebuild,
  limit,
  maxEvents,
  after: from,
  print = console.log,
  warn = (line) => console.error(line),
  onCall,
}) {
  /** @type {Record<string, any>} */
  let total = { calls: 0 };
  const started = performance.now();
  /** @type {string | undefined} */
  let after = from;
  for (;;) {
    let body;
    try {
      body = await call(
        url,
        client.POST("/api/v1/platform/events/replay", {
          body: { consumer, tenant_id: tenant, after, limit, max_events: maxEvents, rebuild },
        }),
      );
    } catch (error) {
      // Every call before this one is applied and recorded: say where to go on from. On the
      // first call that is the --after given, unless the API refused the call itself (a 4xx:
      // resuming would be refused the same way); a 5xx or no answer leaves the cursor good.
      if (!(error instanceof CliError) || after === undefined) throw error;
      const refused = typeof error.problem?.status === "number" && error.problem.status < 500;
      if (total.calls === 0 && refused) throw error;
      throw new CliError(
        `${error.message}\nresume with --after ${JSON.stringify(after)}`,
        error.exitCode,
        error.problem,
        {
          resume_after: after,
        },
      );
    }
    onCall?.(body);
    if (total.calls === 0 && body.source !== "state" && body.unreadable?.length > 0) {
      // Said once, before the counts, so nobody reads "done" as "everything".
      // Where the objects hold the read model whole, say what brings all of it back.
      const whole = body.rebuild_from_state ? `; --rebuild copies ${consumer} whole from its objects' state` : "";
      const line = `${consumer}: not replayed, their writers keep no event log: ${body.unreadable.join(", ")}${whole}`;
      warn(line, { warning: "not_replayed", consumer, event_types: body.unreadable, detail: line });
    }
    total = tally(total, body);
    print(progressLine(consumer, total, (performance.now() - started) / 1000, body.next));
    if (!body.next) return total;
    after = body.next;
  }
}
