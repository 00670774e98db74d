// Types of dev-settle.mjs for the TypeScript tests that import it.
export declare function settleFile(
  file: string,
  options: { quietMs?: number; timeoutMs?: number; complete: (text: string) => boolean | Promise<boolean> },
): Promise<{ text: string | null; complete: boolean }>;
export declare function wranglerTomlReadable(file: string): Promise<boolean>;
export declare function wranglerTomlWhole(file: string): (text: string) => false | Promise<boolean>;
export declare function wranglerTomlSettled(
  root: string,
  startedAt: number,
  quietMs?: number,
  windowMs?: number,
): Promise<boolean>;
