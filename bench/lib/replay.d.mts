/** Types of replay.mjs for the TypeScript that imports it (the Node tests). */

export interface ReplayRun {
  consumer: string;
  rebuild: boolean;
  calls: number;
  streams: number;
  events: number;
  applied: number;
  seconds: number;
  /** The most events one call read. */
  maxEventsPerCall: number;
}

/** Replays everything once to `consumer`, following `next` to the end. */
export function replayOnce(opts: {
  origin: string;
  rootKey: string;
  consumer: string;
  rebuild: boolean;
}): Promise<ReplayRun>;

/** The report's "Replay: catch-up and rebuild" section; `writeRps` is the fastest write scenario's rate. */
export function replaySection(runs: ReplayRun[], writeRps: number): string;
