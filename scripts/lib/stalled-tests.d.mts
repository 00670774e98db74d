// Types of stalled-tests.mjs for the TypeScript tests that import it.
export interface StalledFile {
  file: string;
  startedAt: number;
  loaded: boolean;
  tests: { test: string; startedAt: number }[];
}
export declare function progressLine(
  at: number,
  event: string,
  fields?: { file?: string; id?: string; test?: string; state?: string },
): string;
export declare function stalledTests(text: string): {
  lastEventAt: number | null;
  runEndedAt: number | null;
  anyFileStarted: boolean;
  files: StalledFile[];
};
export declare function describeStalled(text: string | null, now: number): string[];
