// The bench's goals table (bench/lib/goals.mjs): each of the event pipeline's goals judged
// against the run's own figures, "not measured" where a phase did not run.
import { describe, expect, it } from "vitest";
import { type ConsumerCounts, goalsSection, type PipelineFigures, pipelineFigures } from "../../bench/lib/goals.mjs";

/** The verdict cell of the goal row whose first cell starts with `goal`. */
function verdict(section: string, goal: string): string {
  const line = section.split("\n").find((l) => l.startsWith(`| ${goal}`));
  if (!line) throw new Error(`no row for ${goal}`);
  return line.split("|").at(-2)?.trim() ?? "";
}

/** 120 samples: 4 ms for most, 30 ms for the slowest few. */
const lagMs = Array.from({ length: 120 }, (_, i) => (i < 115 ? 4 : 30));

const measured: PipelineFigures = {
  oneRps: 911,
  hundredRps: 371,
  bareOneRps: 1948,
  bareHundredRps: 2089,
  lagMs,
  phase: { seconds: 131.8, committed: 42792, queued: 42792 },
  behind: 0,
  tripsPerEvent: { inline: 0.059, queue: 0.08 },
  drainFailures: 8175,
};

describe("goalsSection", () => {
  it("judges each goal against the figures: the throughput goals and the drain failures unmet, the rest met", () => {
    const s = goalsSection(measured);
    expect(verdict(s, "commands/s on one aggregate")).toBe("**not met**");
    expect(verdict(s, "commands/s on 100 aggregates")).toBe("**not met**");
    expect(s).toContain("371 (0.41× one aggregate)");
    expect(verdict(s, "projected events/s")).toBe("met");
    expect(verdict(s, "queue consumer's intake")).toBe("met");
    expect(verdict(s, "read model's lag")).toBe("met");
    expect(verdict(s, "event → read model, samples")).toBe("met");
    expect(verdict(s, "event → read model p50")).toBe("met");
    expect(verdict(s, "event → read model p99")).toBe("met");
    expect(s).toContain("| event → read model p99");
    expect(s).toContain("30.0 ms");
    expect(verdict(s, "D1 round trips per event")).toBe("met");
    expect(verdict(s, "outbox drain failures")).toBe("**not met**");
    expect(s).toContain("47% of it on one object (911 of 1948 req/s) and 18% of it on 100 objects (371 of 2089 req/s)");
  });

  it("meets the throughput goals at 1,000/s with 100 aggregates as fast, and the drain goal at 0", () => {
    const s = goalsSection({ ...measured, oneRps: 1000, hundredRps: 1000, drainFailures: 0 });
    expect(verdict(s, "commands/s on one aggregate")).toBe("met");
    expect(verdict(s, "commands/s on 100 aggregates")).toBe("met");
    expect(verdict(s, "outbox drain failures")).toBe("met");
  });

  it("fails the latency and lag goals when the read model falls behind", () => {
    const slow = Array.from({ length: 120 }, (_, i) => (i < 100 ? 1022 : 1500));
    const s = goalsSection({ ...measured, lagMs: slow, behind: 22245 });
    expect(verdict(s, "event → read model p50")).toBe("**not met**");
    expect(verdict(s, "event → read model p99")).toBe("**not met**");
    // 22,245 behind at ~325 events/s appended is over a minute of writes.
    expect(verdict(s, "read model's lag")).toBe("**not met**");
    expect(verdict(s, "projected events/s")).toBe("**not met**");
    // The queue fell behind while the inline passes kept the blog's read model current.
    const queueBehind = goalsSection({ ...measured, phase: { seconds: 10, committed: 5000, queued: 2600 } });
    expect(verdict(queueBehind, "queue consumer's intake")).toBe("**not met**");
    expect(queueBehind).toContain("260 of 500 events/s (2600 of 5000)");
    expect(verdict(queueBehind, "read model's lag")).toBe("met");
    expect(verdict(goalsSection({ ...measured, lagMs: lagMs.slice(0, 99) }), "event → read model, samples")).toBe(
      "**not met**",
    );
  });

  it("says 'not measured' for what a filtered run did not measure, never 'met'", () => {
    const s = goalsSection({
      oneRps: undefined,
      hundredRps: undefined,
      bareOneRps: undefined,
      bareHundredRps: undefined,
      lagMs: null,
      phase: null,
      behind: null,
      tripsPerEvent: null,
      drainFailures: 0,
    });
    for (const goal of [
      "commands/s on one",
      "commands/s on 100",
      "projected",
      "queue consumer's intake",
      "read model's lag",
      "event → read model p50",
    ])
      expect(verdict(s, goal)).toBe("not measured");
  });
});

describe("pipelineFigures", () => {
  const counts = (
    at: number,
    inline: number,
    inlineTrips: number,
    queue: number,
    queueTrips: number,
  ): ConsumerCounts => ({
    at,
    inline: { passes: 0, events: inline, applied: inline, deferred: 0, failed: 0, d1_round_trips: inlineTrips },
    queue: { batches: 0, messages: queue, events: queue, applied: queue, d1_round_trips: queueTrips },
  });

  it("takes the rates by scenario name (skipped ones left out) and the phase's counts as differences", () => {
    const f = pipelineFigures({
      rows: [
        { name: "plinth PATCH post (one aggregate)", rps: 911 },
        { name: "plinth PATCH post (100 aggregates)", rps: 371, skipped: true },
        { name: "bare DO command (one object)", rps: 1948 },
      ],
      series: { lagMs: [1, 2] },
      figures: { before: counts(1000, 100, 10, 50, 5), afterWrites: counts(11_000, 1100, 70, 850, 85) },
      backlog: { behind: 3 },
      drainFailures: 2,
    });
    expect(f).toEqual({
      oneRps: 911,
      hundredRps: undefined,
      bareOneRps: 1948,
      bareHundredRps: undefined,
      lagMs: [1, 2],
      phase: { seconds: 10, committed: 1000, queued: 800 },
      behind: 3,
      tripsPerEvent: { inline: 0.06, queue: 0.1 },
      drainFailures: 2,
    });
  });
});
