// Whether a file being written is whole yet: a writer that truncates, then writes (`cp`, a
// shell's `>`), leaves wrangler.toml empty or half for a while, and wrangler dev (or npm start's
// generator) reading it then fails for no fault of the developer's. Used by npm start's
// supervision (dev-supervisor.mjs) and its watch of wrangler.toml (dev-watch.mjs).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The file's text, or null when it cannot be read (between an editor's delete and rename). */
function readText(/** @type {string} */ file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/**
 * Reads `file` until it is whole: the same text twice, `quietMs` apart, that `complete` takes.
 * A writer that truncates, then writes (`cp`, a shell's `>`), leaves an empty or half file for
 * a while; one that stays so for `timeoutMs` is the developer's own (a broken save), and is
 * given back as it is, with `complete: false`.
 * @param {string} file
 * @param {{ quietMs?: number, timeoutMs?: number,
 *   complete: (text: string) => boolean | Promise<boolean> }} options
 * @returns {Promise<{ text: string | null, complete: boolean }>}
 */
export async function settleFile(file, { quietMs = 300, timeoutMs = 3000, complete }) {
  const deadline = Date.now() + timeoutMs;
  let text = readText(file);
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const again = readText(file);
    if (again === text && text !== null && (await complete(text))) return { text, complete: true };
    if (Date.now() >= deadline) return { text: again, complete: false };
    text = again;
  }
}

/**
 * Whether wrangler reads the config at `file` as a Worker's: it parses (wrangler's own reader,
 * loaded once, at the first save of wrangler.toml) and names its `main`. An empty file parses,
 * but names no Worker: wrangler dev stops at it ("Missing entry-point").
 * @param {string} file
 */
export async function wranglerTomlReadable(file) {
  try {
    const { unstable_readConfig } = await import("wrangler");
    return Boolean(unstable_readConfig({ config: file }).main);
  } catch {
    return false;
  }
}

/** Whether `file`'s text, as wrangler would read it, is whole (see {@link wranglerTomlReadable}). */
export const wranglerTomlWhole = (/** @type {string} */ file) => (/** @type {string} */ text) =>
  text.trim() !== "" && wranglerTomlReadable(file);

/**
 * Whether a wrangler dev that stopped with a failure, now, stopped because `wrangler.toml`
 * under `root` was being written as it read it: the file changed in the last `windowMs` and
 * since that wrangler dev started (`startedAt`, ms since the epoch), and once it stops
 * changing it reads whole. A file the developer left broken is not (the error stays on screen
 * until the next save); one that reads whole but still stops wrangler dev costs one start
 * more, which it outlives. A failure in src/ long after a save of wrangler.toml is not either.
 * @param {string} root
 * @param {number} startedAt
 * @param {number} [quietMs]
 * @param {number} [windowMs]
 */
export async function wranglerTomlSettled(root, startedAt, quietMs = 300, windowMs = 5000) {
  const file = join(root, "wrangler.toml");
  try {
    if (statSync(file).mtimeMs < Math.max(startedAt, Date.now() - windowMs)) return false;
  } catch {
    return false;
  }
  return (await settleFile(file, { quietMs, complete: wranglerTomlWhole(file) })).complete;
}
