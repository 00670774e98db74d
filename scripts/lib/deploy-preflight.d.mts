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
  durable_objects?: { bindings?: { name: string }[] };
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
  },
  env: string,
  top?: Bindings,
): string[];
export function secretProblems(names: string[]): { errors: string[]; warnings: string[] };
