// Types of dev-crash.mjs for the TypeScript tests that import it.
export interface RunRecord {
  pid?: number;
  port?: number;
  started_at?: string;
  owed_since?: string;
}
export type LastRun =
  | { state: "none" }
  | { state: "running"; pid: number; port?: number }
  | { state: "unclean"; since: string; startedAt: string }
  | { state: "owed"; since: string };
export declare const RUN_FILE: string;
export declare const REPLAYS: readonly { consumer: string; restores: string }[];
export declare function readRun(file?: string): RunRecord | null;
export declare function isAlive(pid: number): boolean;
export declare function isNpmStart(pid: number, command?: (pid: number) => string | null): boolean;
export declare function anotherStartLines(running: { pid: number; port?: number }): string[];
export declare function lastRun(record: RunRecord | null, alive: (pid: number) => boolean): LastRun;
export declare function beginRun(record: RunRecord, file?: string): void;
export declare function endRun(owedSince: string | null, file?: string): void;
export declare function trackRun(options: {
  port: number;
  file?: string;
  pid?: number;
  now?: () => string;
  alive?: (pid: number) => boolean;
  onExit?: (listener: () => void) => void;
}): {
  previous: LastRun;
  readonly unwritable: string | null;
  readonly owedSince: string | null;
  readonly debt: number;
  owe(): void;
  recovered(upTo: number): void;
};
export declare function replayCommand(origin: string, consumer: string): string;
export declare function uncleanStopLines(options: {
  since: string;
  startedAt?: string;
  origin: string;
  auto: boolean;
  cleanly?: boolean;
}): string[];
export declare function replayAfterCrash(options: {
  origin: string;
  rootKey?: () => string | undefined;
  run?: (args: string[], env: Record<string, string | undefined>) => Promise<number | null>;
}): Promise<"done" | "failed" | "interrupted">;
export declare function replayNotDoneLine(outcome: "failed" | "interrupted", origin: string): string;
export declare function restartLossLines(origin: string): string[];
export declare function owedReplays(options: {
  tracked: { readonly owedSince: string | null; readonly debt: number; recovered(upTo: number): void };
  auto: boolean;
  origin: string;
  rootKey?: () => string | undefined;
  say: (line: string) => void;
  warn?: (line: string) => void;
  replay?: typeof replayAfterCrash;
}): (what: string, options?: { restarted?: boolean }) => Promise<void>;
export declare function endReplays(signal?: NodeJS.Signals): void;
