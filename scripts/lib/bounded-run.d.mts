// Types of bounded-run.mjs for the TypeScript tests that import it.
export interface BoundedResult {
  code: number;
  timedOut: boolean;
  leftovers: string[];
}
export interface StopReason {
  bound: "total" | "idle";
  seconds: number;
}
export declare function stopReason(at: {
  now: number;
  startedAt: number;
  lastEventAt: number | null;
  limitSeconds: number;
  idleSeconds?: number;
}): StopReason | null;
export declare function changedAt(path: string): number | null;
export declare function processesInGroup(pgid: number): string[];
export declare function runBounded(
  command: string,
  args: string[],
  options: {
    limitSeconds: number;
    idleSeconds?: number;
    progressFile?: string;
    graceSeconds?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    onTimeout?: (tree: string[], reason: StopReason) => void;
  },
): Promise<BoundedResult>;
export declare function runCheck(
  step: { name: string; cmd: string; args: string[] },
  options: {
    limitSeconds: number;
    idleSeconds?: number;
    progressFile?: string;
    graceSeconds?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    runAgainIfHung?: boolean;
    describeHang?: () => string[];
  },
): Promise<{ code: number; notes: string[] }>;
