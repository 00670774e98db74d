// Types of shipped-storage.mjs for the TypeScript tests that import it.
export declare const RECORD: string;
export declare function migrationHash(sql: string): string;
export declare function versionHash(statements: readonly unknown[]): string;
export declare function shippedStorage(
  root: string,
  how: { check: boolean },
): Promise<{ problems: string[]; wrote: boolean }>;
