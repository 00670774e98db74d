/**
 * The replay phase: after the write phase, the writers' events are replayed to
 * subscriptions through `POST /api/v1/platform/events/replay`, with `plinth events replay`'s
 * own loop, following `next` to the end: first a catch-up (only what the ledger lacks is
 * applied, usually nothing: the cost of reading the writers and asking the ledger), then a
 * rebuild (every event applied again). Reported as events/s against the rate at which the
 * write phase appended them, in the same run.
 */
import { connect } from "../../scripts/lib/remote.mjs";
import { replay } from "../../scripts/lib/replay.mjs";
import { fmt, mdTable } from "./report.mjs";

/**
 * @typedef {object} ReplayRun
 * @property {string} consumer
 * @property {boolean} rebuild
 * @property {number} calls
 * @property {number} streams
 * @property {number} events
 * @property {number} applied
 * @property {number} seconds
 * @property {number} maxEventsPerCall the most events one call read
 */

/**
 * Replays everything once to `consumer` with `plinth events replay`'s own loop
 * (scripts/lib/replay.mjs), its defaults, and no progress lines.
 * @param {{ origin: string, rootKey: string, consumer: string, rebuild: boolean }} opts
 * @returns {Promise<ReplayRun>}
 */
export async function replayOnce({ origin, rootKey, consumer, rebuild }) {
  let maxEventsPerCall = 0;
  const started = performance.now();
  const total = await replay({
    client: connect(origin, rootKey),
    url: origin,
    consumer,
    rebuild,
    limit: 50,
    print: () => {},
    warn: () => {},
    onCall: (answer) => {
      maxEventsPerCall = Math.max(maxEventsPerCall, answer.events);
    },
  });
  return { consumer, rebuild, ...total, seconds: (performance.now() - started) / 1000, maxEventsPerCall };
}

/**
 * @param {ReplayRun[]} runs
 * @param {number} writeRps the fastest write scenario's median commands/s (one event each)
 */
export function replaySection(runs, writeRps) {
  const rate = (/** @type {ReplayRun} */ r) => r.events / Math.max(r.seconds, 1e-3);
  const rows = runs.map((r) => [
    r.consumer,
    r.rebuild ? "rebuild" : "catch-up",
    String(r.calls),
    String(r.streams),
    String(r.events),
    String(r.applied),
    String(r.maxEventsPerCall),
    fmt(r.seconds, 2),
    fmt(rate(r)),
    writeRps > 0 ? `${fmt(rate(r) / writeRps, 1)}×` : "n/a",
  ]);
  const table = mdTable(
    [
      "subscription",
      "mode",
      "calls",
      "streams",
      "events read",
      "applied",
      "most events in a call",
      "seconds",
      "events/s",
      "vs the writes' rate",
    ],
    rows,
    [false, false, true, true, true, true, true, true, true, true],
  );
  const rebuilds = runs.filter((r) => r.rebuild);
  const mostInACall = Math.max(0, ...runs.map((r) => r.maxEventsPerCall));
  const slowest = rebuilds.length ? Math.min(...rebuilds.map(rate)) : Number.NaN;
  return [
    "## Replay: catch-up and rebuild",
    "",
    "Right after the write phase (and the read-model probe), every stream of the stream catalog was replayed to each subscription through `POST /api/v1/platform/events/replay` with `npx plinth events replay`'s own loop (scripts/lib/replay.mjs), one call after another following `next`, with the defaults (50 streams, at most 5,000 events per call): first a catch-up, which applies only the events the subscription's ledger has not recorded (reading the writers and asking the ledger), then a rebuild, which applies every event again (`rebuild: true`). The queue consumer may still be working through the write phase's backlog meanwhile: the events a catch-up applied are those it had not delivered yet (its later delivery finds them recorded).",
    "",
    table,
    "",
    writeRps > 0 && Number.isFinite(slowest)
      ? `The slowest rebuild went through ${fmt(slowest)} events/s, ${fmt(slowest / writeRps, 1)}× the rate the fastest write scenario appended them (${fmt(writeRps)} commands/s, one event each): rebuilding a read model takes about 1/${fmt(slowest / writeRps, 0)} of the time its events took to write at full load. ${mostInACall <= 5000 ? `The most events one call read was ${mostInACall} (a call reads at most 5,000), so a call's memory stays bounded however long a stream is` : `**A call read ${mostInACall} events, over the 5,000 a call may read**`} (docs/events.md, "Replay").`
      : "No rebuild could be compared with a write rate in this run.",
    "", // a blank line before the next section's heading, as biome formats REPORT.md
  ].join("\n");
}
