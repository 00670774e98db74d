// Which `[env.<name>]` sections a wrangler config declares, so a misspelt `--env` is a
// usage error (exit 2) named before wrangler runs: wrangler refuses it too, but with its
// exit code 1, which plinth's commands reserve for a step that failed.
import { join } from "node:path";
import { root } from "./env.mjs";

/**
 * Null when `env` is declared in the config (or not given), else the message to print: the
 * environments it has, or why the config cannot be read.
 * @param {string | undefined} env
 * @param {string} [config] the wrangler config file (wrangler.toml at the root by default)
 * @returns {Promise<string | null>}
 */
export async function unknownEnvironment(env, config = join(root, "wrangler.toml")) {
  if (env === undefined) return null;
  const name = config === join(root, "wrangler.toml") ? "wrangler.toml" : config;
  // Loaded only when asked: wrangler's module takes a moment to import.
  const { experimental_readRawConfig } = await import("wrangler");
  let declared;
  try {
    declared = Object.keys(experimental_readRawConfig({ config }).rawConfig.env ?? {});
  } catch (error) {
    // A config wrangler cannot read (conflict markers, a directory in its place) is the project's
    // to fix, found before anything ran: a usage error naming it, not "a bug in plinth" (exit 5).
    return `cannot read ${name}, so --env ${env} cannot be checked: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (declared.includes(env)) return null;
  const have = declared.length > 0 ? `it has ${declared.join(", ")}` : "it declares none";
  return `no environment ${JSON.stringify(env)} in ${name} (${have})`;
}
