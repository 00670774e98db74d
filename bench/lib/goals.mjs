/**
 * The event pipeline's goals (issue 12's acceptance), each next to what this run measured
 * and whether it was met, so a reader of REPORT.md need not assemble them from its sections.
 * Pure: run.mjs hands in the figures the other sections already hold.
 */
import { fmt, mdTable, percentile } from "./report.mjs";

/**
 * @typedef {object} PipelineFigures
 * @property {number | undefined} oneRps plinth's PATCH on one aggregate (median req/s)
 * @property {number | undefined} hundredRps the same on 100 aggregates
 * @property {number | undefined} bareOneRps the bare DO command on one object, same run
 * @property {number | undefined} bareHundredRps the bare DO command on 100 objects, same run
 * @property {number[] | null} lagMs the projection-latency samples (ms), or null when the series did not run
 * @property {{ seconds: number, committed: number, queued: number } | null} phase the write phase's length, the
 *   events committed in it (the inline passes' count) and those the queue consumer took in meanwhile, or null
 *   when the consumer's figures could not be read
 * @property {number | null} behind events not yet in the read model when the write load stopped, or null when not probed
 * @property {{ inline: number, queue: number } | null} tripsPerEvent D1 round trips per event during the write
 *   phase, counted by the Worker (NaN where no event passed), or null when not read
 * @property {number} drainFailures the Worker's `outbox drain failed` lines in the whole run
 */

/** @param {boolean | null} ok */
const verdict = (ok) => (ok === null ? "not measured" : ok ? "met" : "**not met**");

/**
 * The "Goals" part of the projection section.
 * @param {PipelineFigures} f
 * @returns {string}
 */
export function goalsSection(f) {
  const { lagMs, phase, behind, tripsPerEvent } = f;
  /** A measured rate, or null when the scenario did not run. */
  const rate = (/** @type {number | undefined} */ x) => (x !== undefined && Number.isFinite(x) ? x : null);
  const one = rate(f.oneRps);
  const hundred = rate(f.hundredRps);
  const samples = lagMs?.length ?? 0;
  const p50 = samples ? percentile(lagMs ?? [], 0.5) : Number.NaN;
  const p99 = samples ? percentile(lagMs ?? [], 0.99) : Number.NaN;
  const appendedPerS = phase && phase.seconds > 0 ? phase.committed / phase.seconds : Number.NaN;
  // Everything committed in the window and no longer behind at its end was projected within it.
  const projectedPerS =
    phase && behind !== null && phase.seconds > 0 ? Math.max(0, phase.committed - behind) / phase.seconds : Number.NaN;
  const lagS = behind !== null && appendedPerS > 0 ? behind / appendedPerS : Number.NaN;
  /** @type {[string, string, string, boolean | null][]} */
  const rows = [
    [
      "commands/s on one aggregate, 10 connections",
      "≥ 1,000",
      one !== null ? fmt(one) : "n/a",
      one !== null ? one >= 1000 : null,
    ],
    [
      "commands/s on 100 aggregates",
      "no slower than one aggregate",
      hundred !== null && one !== null ? `${fmt(hundred)} (${fmt(hundred / one, 2)}× one aggregate)` : "n/a",
      hundred !== null && one !== null ? hundred >= one : null,
    ],
    [
      "projected events/s during the write phase",
      "≥ the rate the writes appended",
      Number.isFinite(projectedPerS)
        ? `${fmt(projectedPerS)} of ${fmt(appendedPerS)} appended (same ${fmt(phase?.seconds ?? 0, 1)} s)`
        : "n/a",
      Number.isFinite(projectedPerS) ? projectedPerS >= appendedPerS : null,
    ],
    [
      // What the queue alone feeds (the audit log's copy, the stream catalog, webhooks) keeps up only if this does.
      "queue consumer's intake during the write phase",
      "≥ the rate the writes appended",
      phase && phase.seconds > 0
        ? `${fmt(phase.queued / phase.seconds)} of ${fmt(appendedPerS)} events/s (${phase.queued} of ${phase.committed})`
        : "n/a",
      phase && phase.seconds > 0 ? phase.queued >= phase.committed : null,
    ],
    [
      "read model's lag when the write phase ended",
      "< 1 s",
      Number.isFinite(lagS) ? `${behind} events, ${fmt(lagS, 2)} s of writes` : "n/a",
      Number.isFinite(lagS) ? lagS < 1 : null,
    ],
    ["event → read model, samples", "≥ 100", String(samples), lagMs ? samples >= 100 : null],
    ["event → read model p50", "≤ 100 ms", samples ? `${fmt(p50, 1)} ms` : "n/a", samples ? p50 <= 100 : null],
    ["event → read model p99", "≤ 1,000 ms", samples ? `${fmt(p99, 1)} ms` : "n/a", samples ? p99 <= 1000 : null],
    [
      "D1 round trips per event in the consumer",
      "counted, not estimated",
      tripsPerEvent ? `inline passes ${fmt(tripsPerEvent.inline, 3)}, queue ${fmt(tripsPerEvent.queue, 3)}` : "n/a",
      tripsPerEvent ? true : null,
    ],
    ["outbox drain failures during the run", "0", String(f.drainFailures), f.drainFailures === 0],
  ];
  /** plinth's PATCH as a share of the bare DO command on as many objects, when both ran. */
  const share = (
    /** @type {number | null} */ mine,
    /** @type {number | undefined} */ bare,
    /** @type {string} */ on,
  ) => {
    const b = rate(bare);
    return mine !== null && b !== null && b > 0
      ? `${fmt((100 * mine) / b)}% of it on ${on} (${fmt(mine)} of ${fmt(b)} req/s)`
      : null;
  };
  const bare = [share(one, f.bareOneRps, "one object"), share(hundred, f.bareHundredRps, "100 objects")].filter(
    (x) => x !== null,
  );
  return [
    "## Event pipeline: goals",
    "",
    "The event pipeline's goals (issue 12's acceptance), each against this run's own figures; the throughput table above and the projection sections below show how they were taken.",
    "",
    mdTable(
      ["goal", "target", "measured", "verdict"],
      rows.map(([goal, target, measured, ok]) => [goal, target, measured, verdict(ok)]),
      [false, false, false, false],
    ),
    ...(bare.length
      ? [
          "",
          `Against the bare DO command of the same run instead (a SQLite Durable Object doing only its append, same bodies and connections: what a command costs this runtime before any of plinth's work), plinth's PATCH served ${bare.join(" and ")}; the rest of the gap to the hello baseline is the runtime's cost of a Durable Object command under Miniflare.`,
        ]
      : []),
    "",
  ].join("\n");
}

/**
 * {@link PipelineFigures} from what run.mjs holds after the write phase.
 * @param {{ rows: { name: string, rps: number, skipped?: boolean }[],
 *   series: { lagMs: number[] } | null,
 *   figures: { before: import("./projection.mjs").ConsumerFigures | null, afterWrites: import("./projection.mjs").ConsumerFigures | null },
 *   backlog: { behind: number } | null, drainFailures: number }} run
 * @returns {PipelineFigures}
 */
export function pipelineFigures({ rows, series, figures, backlog, drainFailures }) {
  const rps = (/** @type {string} */ name) => rows.find((r) => r.name === name && !r.skipped)?.rps;
  const { before, afterWrites } = figures;
  const inline = before && afterWrites ? afterWrites.inline.events - before.inline.events : 0;
  const queue = before && afterWrites ? afterWrites.queue.events - before.queue.events : 0;
  const trips = (/** @type {"inline" | "queue"} */ path, /** @type {number} */ events) =>
    before && afterWrites && events > 0
      ? (afterWrites[path].d1_round_trips - before[path].d1_round_trips) / events
      : Number.NaN;
  return {
    oneRps: rps("plinth PATCH post (one aggregate)"),
    hundredRps: rps("plinth PATCH post (100 aggregates)"),
    bareOneRps: rps("bare DO command (one object)"),
    bareHundredRps: rps("bare DO command (100 objects)"),
    lagMs: series ? series.lagMs : null,
    phase:
      before && afterWrites ? { seconds: (afterWrites.at - before.at) / 1000, committed: inline, queued: queue } : null,
    behind: backlog ? backlog.behind : null,
    tripsPerEvent: before && afterWrites ? { inline: trips("inline", inline), queue: trips("queue", queue) } : null,
    drainFailures,
  };
}
