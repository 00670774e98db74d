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
 * @property {{ seconds: number, committed: number } | null} phase the write phase's length and the events
 *   committed in it (the inline passes' count), or null when the consumer's figures could not be read
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
  const { oneRps, hundredRps, lagMs, phase, behind, tripsPerEvent } = f;
  const has = (/** @type {number | undefined} */ x) => x !== undefined && Number.isFinite(x);
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
      has(oneRps) ? fmt(oneRps ?? 0) : "n/a",
      has(oneRps) ? (oneRps ?? 0) >= 1000 : null,
    ],
    [
      "commands/s on 100 aggregates",
      "no slower than one aggregate",
      has(hundredRps) && has(oneRps)
        ? `${fmt(hundredRps ?? 0)} (${fmt((hundredRps ?? 0) / (oneRps ?? 1), 2)}× one aggregate)`
        : "n/a",
      has(hundredRps) && has(oneRps) ? (hundredRps ?? 0) >= (oneRps ?? 0) : null,
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
  const bare = [
    has(oneRps) && has(f.bareOneRps) ? `${fmt((100 * (oneRps ?? 0)) / (f.bareOneRps ?? 1))}% on one object` : null,
    has(hundredRps) && has(f.bareHundredRps)
      ? `${fmt((100 * (hundredRps ?? 0)) / (f.bareHundredRps ?? 1))}% on 100 objects`
      : null,
  ].filter((x) => x !== null);
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
          `Measured against the bare DO command of the same run instead (what a command costs this runtime before any of plinth's work), plinth's PATCH served ${bare.join(" and ")}.`,
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
    phase: before && afterWrites ? { seconds: (afterWrites.at - before.at) / 1000, committed: inline } : null,
    behind: backlog ? backlog.behind : null,
    tripsPerEvent: before && afterWrites ? { inline: trips("inline", inline), queue: trips("queue", queue) } : null,
    drainFailures,
  };
}
