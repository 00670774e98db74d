// Types of migration-tables.mjs for the TypeScript tests that import it.
export declare function migrationTables(migrations: readonly { name: string; sql: string }[]): Record<string, string[]>;
