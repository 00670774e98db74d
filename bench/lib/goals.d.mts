/** Types of goals.mjs for the TypeScript that imports it (the Node tests). */

export interface ConsumerCounts {
  at: number;
  queue: { batches: number; messages: number; events: number; applied: number; d1_round_trips: number };
  inline: { passes: number; events: number; applied: number; deferred: number; failed: number; d1_round_trips: number };
}

export interface PipelineFigures {
  oneRps: number | undefined;
  hundredRps: number | undefined;
  bareOneRps: number | undefined;
  bareHundredRps: number | undefined;
  lagMs: number[] | null;
  phase: { seconds: number; committed: number; queued: number } | null;
  behind: number | null;
  tripsPerEvent: { inline: number; queue: number } | null;
  drainFailures: number;
}

/** The "Event pipeline: goals" section of REPORT.md. */
export function goalsSection(f: PipelineFigures): string;

/** PipelineFigures from what run.mjs holds after the write phase. */
export function pipelineFigures(run: {
  rows: { name: string; rps: number; skipped?: boolean }[];
  series: { lagMs: number[] } | null;
  figures: { before: ConsumerCounts | null; afterWrites: ConsumerCounts | null };
  backlog: { behind: number } | null;
  drainFailures: number;
}): PipelineFigures;
