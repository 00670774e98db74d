// The bench's replay section (bench/lib/replay.mjs): each run's rate against the write
// phase's, and the slowest rebuild named in the reading.
import { describe, expect, it } from "vitest";
import { type ReplayRun, replaySection } from "../../bench/lib/replay.mjs";

const run = (consumer: string, rebuild: boolean, seconds: number, applied: number): ReplayRun => ({
  consumer,
  rebuild,
  calls: 8,
  streams: 102,
  events: 37_000,
  applied,
  seconds,
  maxEventsPerCall: 5000,
});

describe("replaySection", () => {
  it("gives each run's events/s as a ratio of the writes' rate and reads the slowest rebuild", () => {
    const s = replaySection(
      [
        run("blog:blog.posts", false, 2, 0),
        run("blog:blog.posts", true, 1.85, 37_000),
        run("audit:log", false, 1.6, 120),
        run("audit:log", true, 5, 37_000),
      ],
      740,
    );
    const row = (mode: string, consumer: string) =>
      s.split("\n").find((l) => l.startsWith(`| ${consumer}`) && l.includes(` ${mode} `)) ?? "";
    // 37,000 / 2 s = 18,500/s, 25.0× 740; 37,000 / 5 s = 7,400/s, 10.0×.
    expect(row("catch-up", "blog:blog.posts")).toMatch(/\|\s+18500 \|\s+25\.0× \|$/);
    expect(row("rebuild", "audit:log")).toMatch(/\|\s+5\.00 \|\s+7400 \|\s+10\.0× \|$/);
    expect(row("catch-up", "audit:log")).toMatch(/\|\s+120 \|\s+5000 \|/);
    expect(s).toContain("The slowest rebuild went through 7400 events/s, 10.0× the rate");
    expect(s).toContain("about 1/10 of the time");
    expect(s).toContain("The most events one call read was 5000 (a call reads at most 5,000)");
    // A call over the bound is reported, not hidden behind a fixed sentence.
    const over = replaySection([{ ...run("audit:log", true, 5, 37_000), maxEventsPerCall: 6000 }], 740);
    expect(over).toContain("**A call read 6000 events, over the 5,000 a call may read**");
    // Sections are joined by "\n": this one must end with its own, or the next heading sticks to it.
    expect(s.endsWith(".\n")).toBe(true);
  });

  it("says so when there is no write rate to compare with", () => {
    const s = replaySection([run("blog:blog.posts", true, 2, 37_000)], 0);
    expect(s).toMatch(/\|\s+n\/a \|$/m);
    expect(s).toContain("No rebuild could be compared with a write rate in this run.");
  });
});
