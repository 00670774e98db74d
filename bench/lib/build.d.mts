/** Where and how to bundle one Worker with `wrangler deploy --dry-run`. */
export interface BuildOptions {
  /** Directory to run wrangler in. */
  root: string;
  /** `-c` argument (default: root/wrangler.toml). */
  configPath?: string;
  /** The Worker's source entry (checked to exist; names the output). */
  main: string;
  /** Absolute output directory, emptied first. */
  outdir: string;
}

/** Bundles one Worker into `outdir`; resolves to the absolute path of the bundled entry module. */
export function buildWorker(worker: BuildOptions): Promise<string>;
