// Which `[env.<name>]` sections a wrangler config declares, so a misspelt `--env` is a
// usage error (exit 2) named before wrangler runs: wrangler refuses it too, but with its
// exit code 1, which plinth's commands reserve for a step that failed.
import { join } from "node:path";
import { root } from "./env.mjs";

/**
 * Null when `env` is declared in the config (or not given), else the message to print.
 * @param {string | undefined} env
 * @param {string} [config] the wrangler config file (wrangler.toml at the root by default)
 * @returns {Promise<string | null>}
 */
export async function unknownEnvironment(env, config = join(root, "wrangler.toml")) {
  if (env === undefined) return null;
  // Loaded only when asked: wrangler's module takes a moment to import.
  const { experimental_readRawConfig } = await import("wrangler");
  const declared = Object.keys(experimental_readRawConfig({ config }).rawConfig.env ?? {});
  if (declared.includes(env)) return null;
  const have = declared.length > 0 ? `it has ${declared.join(", ")}` : "it declares none";
  return `no environment ${JSON.stringify(env)} in ${config === join(root, "wrangler.toml") ? "wrangler.toml" : config} (${have})`;
}
