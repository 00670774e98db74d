// Types of db-renumbered.mjs for the TypeScript tests that import it.
export declare const DB_RENUMBERED_HELP: string;
export declare function dbRenumberedCommand(args: string[], options?: { folder?: string }): Promise<number>;
