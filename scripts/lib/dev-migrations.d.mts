// Types of dev-migrations.mjs for the TypeScript tests that import it.
export interface NewMigrationSteps {
  migrateD1: () => Promise<{ code: number; output: string; applied: string[] }>;
  migrateLibsql: (() => Promise<{ before: number; after: number }>) | null;
  listMigrations: () => Promise<{ code: number; output: string }>;
  say: (line: string) => void;
}
export declare function applyNewMigrations(
  names: string[],
  steps: NewMigrationSteps,
  options?: { rewritten?: boolean },
): Promise<boolean>;
