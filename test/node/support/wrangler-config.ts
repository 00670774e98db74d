// wrangler.toml as wrangler itself resolves it, for the tests of what plinth writes into it
// (the actor scaffold's bindings: scaffold.test.ts, scaffold-actor.test.ts).
import { join } from "node:path";
import type { configProblems } from "../../../scripts/lib/deploy-preflight.mjs";

export type Config = Parameters<typeof configProblems>[0];

/** wrangler.toml of `dir` as wrangler resolves it for `env` (the top level without one). */
export async function resolved(dir: string, env?: string): Promise<Config> {
  const { unstable_readConfig } = await import("wrangler");
  return unstable_readConfig({ config: join(dir, "wrangler.toml"), ...(env ? { env } : {}) }) as Config;
}

/** Its Durable Object bindings, binding name → class name. */
export const bound = (config: Config) =>
  Object.fromEntries((config.durable_objects?.bindings ?? []).map((b) => [b.name, b.class_name]));
