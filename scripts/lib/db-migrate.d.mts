// Types of db-migrate.mjs for the TypeScript tests that import it.
export declare const MIGRATIONS_FOLDER: string;
export declare const DB_MIGRATE_HELP: string;
export declare function migrateLibsql(target: {
  url: string;
  authToken?: string;
  folder?: string;
}): Promise<{ before: number; after: number; outOfOrder: string[] }>;
export declare function migrateD1(options?: { remote?: boolean; env?: string; persistTo?: string }): Promise<number>;
export declare function migrateD1Quietly(options?: {
  remote?: boolean;
  env?: string;
  persistTo?: string;
}): Promise<{ code: number; applied: string[]; output: string }>;
export declare function dbMigrateCommand(args: string[], readDevVars: () => Record<string, string>): Promise<number>;
