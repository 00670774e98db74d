/** Types for deploy-preflight.mjs, for the Node tests of `npm run deploy`. */
export function deployArgs(argv: string[]): {
  env: string | undefined;
  config: string | undefined;
  dryRun: boolean;
  target: string[];
  rest: string[];
};
/** The bindings of a resolved wrangler config, as configProblems compares them. */
export interface Bindings {
  durable_objects?: { bindings?: { name: string; class_name?: string; script_name?: string }[] };
  r2_buckets?: { binding: string }[];
  kv_namespaces?: { binding: string }[];
  queues?: {
    producers?: { binding: string; queue?: string }[];
    consumers?: { queue: string; dead_letter_queue?: string }[];
  };
  d1_databases?: { binding: string; database_name?: string; database_id?: string }[];
  services?: { binding: string }[];
  hyperdrive?: { binding: string }[];
  analytics_engine_datasets?: { binding: string }[];
  vectorize?: { binding: string }[];
  workflows?: { binding: string }[];
  dispatch_namespaces?: { binding: string }[];
  mtls_certificates?: { binding: string }[];
  send_email?: { name: string }[];
  ai?: { binding: string };
  browser?: { binding: string };
}
export function configProblems(
  config: Bindings & {
    name?: string;
    workers_dev?: boolean;
    routes?: unknown[];
    route?: unknown;
    vars?: Record<string, unknown>;
    triggers?: { crons?: string[] };
    migrations?: {
      tag: string;
      new_classes?: string[];
      new_sqlite_classes?: string[];
      renamed_classes?: { from: string; to: string }[];
      deleted_classes?: string[];
      transferred_classes?: { from: string; from_script?: string; to: string }[];
    }[];
  },
  env: string,
  top?: Bindings,
): string[];
export function configWarnings(
  config: { workers_dev?: boolean; routes?: unknown[]; route?: unknown; vars?: Record<string, unknown> },
  env: string,
): string[];
export function secretProblems(
  names: string[],
  vars?: Record<string, unknown>,
): { errors: string[]; warnings: string[] };
