// Types of env.mjs for the TypeScript tests that import it.
export declare const root: string;
export declare const offlineEnv: NodeJS.ProcessEnv;
/** The short commit of HEAD, or "unknown" outside a git checkout. */
export declare function gitCommit(): string;
/** Path of a binary installed in node_modules/.bin. */
export declare function bin(name: string): string;
/** Runs a command to completion with inherited stdio; resolves to its exit code. */
export declare function run(command: string, args: string[], options?: object): Promise<number>;
/** Runs a command with its stdout and stderr captured, not shown. */
export declare function runQuietly(
  command: string,
  args: string[],
  options?: object,
): Promise<{ code: number; output: string }>;
