/** Types for deploy-preflight.mjs, for the Node tests of `npm run deploy`. */
export function deployArgs(argv: string[]): {
  env: string | undefined;
  config: string | undefined;
  dryRun: boolean;
  target: string[];
  rest: string[];
};
export function configProblems(
  config: {
    name?: string;
    workers_dev?: boolean;
    routes?: unknown[];
    route?: unknown;
    vars?: Record<string, unknown>;
    d1_databases?: { binding: string; database_name?: string; database_id?: string }[];
  },
  env: string,
): string[];
export function secretProblems(names: string[]): { errors: string[]; warnings: string[] };
