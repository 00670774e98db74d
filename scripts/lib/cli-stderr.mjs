// What a remote command prints on stderr: lines for a person, or with --json one JSON object
// a line. A script that reads a --json run's stderr as JSON (its refusal, its warnings) broke
// on the one text line of a secret rotation's warning: under --json nothing on stderr is text.
import { EXIT } from "./remote.mjs";

/** The name of each exit code (`usage`, `network`, …), the `error` of a JSON failure line. */
const EXIT_NAMES = new Map(Object.entries(EXIT).map(([name, code]) => [code, name]));

/**
 * @typedef {{ warning: string, detail: string } & Record<string, unknown>} Warning
 *   `warning` is a stable code (e.g. `deprecated_credential`), `detail` the sentence a person reads
 * @typedef {{
 *   warn: (warning: Warning, line?: string) => void,
 *   fail: (exitCode: number, message: string, fields?: Record<string, unknown>) => void,
 *   usage: (message: string, usage: string) => void,
 *   hint: (hint: string, detail: string) => void,
 *   internal: (error: unknown, options?: { personStack?: boolean }) => number,
 * }} Stderr
 */

/**
 * The stderr of one command run: with `json`, each call writes one JSON line; else the
 * human line it always printed.
 *
 * @param {boolean} json
 * @param {(line: string) => void} error writes one line to stderr
 * @returns {Stderr}
 */
export function stderrOf(json, error) {
  const line = (/** @type {Record<string, unknown>} */ fields, /** @type {string} */ text) =>
    error(json ? JSON.stringify(fields) : text);
  return {
    // A warning's own line, where its text predates this (the replay's list of unreadable types).
    warn: (warning, text = `plinth: warning: ${warning.detail}`) => line(warning, text),
    fail: (exitCode, message, fields = {}) =>
      line(
        { error: EXIT_NAMES.get(exitCode) ?? "failed", exit_code: exitCode, detail: message, ...fields },
        `plinth: ${message}`,
      ),
    usage(message, usage) {
      if (json) return error(JSON.stringify({ error: "usage", exit_code: EXIT.usage, detail: message, usage }));
      error(`plinth: ${message}`);
      error(`usage: ${usage}`);
    },
    hint: (hint, detail) => line({ hint, detail }, `plinth: ${detail}`),
    internal: (error, { personStack = true } = {}) => internalError(error, line, personStack),
  };
}

/**
 * Reports an error the CLI did not expect (a bug: a thrown TypeError, say) and answers its exit
 * code, `EXIT.internal`. A person reads the sentence and the stack, for the bug report; with
 * --json, one `{"error":"internal","exit_code","detail"}` line, where a stack trace would be the
 * one stderr text a script cannot parse. PLINTH_DEBUG=1 adds the stack to that line.
 * `personStack: false` (the local commands) keeps a person's form to the one sentence too,
 * the stack after it only with PLINTH_DEBUG=1.
 */
function internalError(error, line, personStack) {
  const detail = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  const debugging = process.env.PLINTH_DEBUG === "1" && stack !== undefined;
  // A person's one line is the same with PLINTH_DEBUG=1; the stack follows it.
  const shown = personStack ? (stack ?? detail) : debugging ? `${detail}\n${stack}` : detail;
  line(
    { error: "internal", exit_code: EXIT.internal, detail, ...(debugging ? { stack } : {}) },
    `plinth: internal error (a bug in plinth): ${shown}`,
  );
  return EXIT.internal;
}
