// TypeScript sources of the Worker loaded in plain Node for the scripts (generate, the CLI's
// registry, `modules validate`): bundled with esbuild into node_modules/.cache and imported
// fresh. Packages stay external (Node resolves them); `.wasm` files load empty, since no
// crypto runs at load and Node could not instantiate the core the way workerd does.
import { rmSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * Bundles `options` (esbuild's: an entry or stdin, plugins) to `out` and imports it, cache-busted
 * so a second load in one process sees edits; `remove` deletes the bundle once imported.
 * @param {string} out @param {Record<string, unknown>} options @param {{ remove?: boolean }} [how]
 * @returns {Promise<Record<string, any>>}
 */
export async function importBundled(out, options, { remove = false } = {}) {
  const { build } = await import("esbuild");
  await build({
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: out,
    logLevel: "error",
    packages: "external",
    loader: { ".wasm": "empty" },
    ...options,
  });
  try {
    return await import(`${pathToFileURL(out).href}?t=${Date.now()}`);
  } finally {
    if (remove) rmSync(out, { force: true });
  }
}
