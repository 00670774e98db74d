// Types of bounded-run.mjs for the TypeScript tests that import it.
export interface BoundedResult {
  code: number;
  timedOut: boolean;
  leftovers: string[];
}
export declare function processesInGroup(pgid: number): string[];
export declare function runBounded(
  command: string,
  args: string[],
  options: {
    limitSeconds: number;
    graceSeconds?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    onTimeout?: (tree: string[]) => void;
  },
): Promise<BoundedResult>;
export declare function runCheck(
  step: { name: string; cmd: string; args: string[] },
  options: {
    limitSeconds: number;
    graceSeconds?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    runAgainIfHung?: boolean;
    describeHang?: () => string[];
  },
): Promise<{ code: number; notes: string[] }>;
