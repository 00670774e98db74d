// npm start keeps the generated sources the Worker imports (src/generated/migrations.ts,
// objects.ts, permissions.ts) in step with their inputs. They were written only by
// `npm run generate`: a Durable Object binding added to wrangler.toml stayed out of
// objects.ts, so /readyz named its check after the binding (`do:REMINDER_CLOCK`, not
// `do:ReminderClock`) until the developer thought of running it, and `npm test` then failed
// on a stale file. `generate --sources-only` is cheap (about a second) and writes only what
// changed, so it runs as npm start begins and whenever wrangler.toml or a module's manifest
// changes (a permission declared there is a PERMISSIONS constant once permissions.ts has it).
import { execFile } from "node:child_process";
import { join } from "node:path";

/**
 * Runs `node scripts/generate.mjs --sources-only` in the checkout at `root`.
 * @param {string} root
 * @returns {Promise<{ code: number, output: string }>}
 */
export function generateSources(root) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "scripts", "generate.mjs"), "--sources-only"],
      { cwd: root },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** The files a generate run says it wrote (`generate: wrote <file>`), in its order. */
export function writtenFiles(/** @type {string} */ output) {
  return [...output.matchAll(/^generate: wrote (\S+)$/gm)].map((m) => m[1]);
}

/**
 * Brings the generated sources up to date and says what that changed, or why it could not
 * (the Worker then runs with them as they were, which the line says).
 * @param {{ root: string, why: string, say: (line: string) => void,
 *   generate?: (root: string) => Promise<{ code: number, output: string }> }} options
 *   `why`: what made them stale, for the message ("wrangler.toml changed")
 * @returns {Promise<string[] | null>} the files rewritten, or null when generating failed
 */
export async function refreshGenerated({ root, why, say, generate = generateSources }) {
  const { code, output } = await generate(root);
  if (code !== 0) {
    say(output.trimEnd());
    say(
      `plinth: ${why}, but src/generated/ could not be rewritten (above); the Worker runs with it as it was. Fix that, then: npm run generate`,
    );
    return null;
  }
  const written = writtenFiles(output);
  if (written.length > 0) {
    say(`plinth: ${why}: rewrote ${written.join(", ")} (generate --sources-only); commit with your change`);
  }
  return written;
}
