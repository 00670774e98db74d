// What the remote commands share: the page options and query, the dead-letter lists'
// filters, printing a page, a record or a file, and a typed client with either key.
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, openSync, writeFileSync } from "node:fs";
import { CliError, connect, EXIT, platformKey, record, table, tenantKey } from "./remote.mjs";

export const pageOptions = {
  limit: { type: "string", arg: "<n>", help: "items per page, 1 to 100 (default 20)" },
  cursor: { type: "string", arg: "<cursor>", help: "the page after this cursor (printed under a full page)" },
};

/** The PageQuery of --limit/--cursor. */
export function pageQuery(values) {
  const query = {};
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError("--limit is 1 to 100", EXIT.usage);
    query.limit = limit;
  }
  if (values.cursor !== undefined) query.cursor = values.cursor;
  return query;
}

/** The options of the platform's dead-letter lists (events, mail): a page, one tenant's, not replayed yet. */
export const deadLetterOptions = (tenantHelp) => ({
  ...pageOptions,
  tenant: { type: "string", arg: "<id>", help: tenantHelp },
  pending: { type: "boolean", help: "only those not replayed yet" },
});

/** The DeadLetterPageQuery of those options. */
export function deadLetterQuery(values) {
  const query = pageQuery(values);
  if (values.tenant !== undefined) query.tenant_id = values.tenant;
  if (values.pending) query.pending = "true";
  return query;
}

/**
 * A value as --json prints it on stdout: indented, as the API's own answers print, so every
 * command's output reads (and diffs) alike; `keys revoke`, `tenants reset-limits` and
 * `webhooks redeliver-failed` printed one compact line before. (stderr's lines stay compact:
 * a script parses each line.)
 */
export const asJson = (/** @type {unknown} */ value) => JSON.stringify(value, null, 2);

/** Prints a list page as a table (with the next cursor) or as the API's JSON. */
export function printPage(run, body, columns) {
  if (run.values.json) return run.print(asJson(body));
  run.print(body.items.length === 0 ? "(none)" : table(body.items, columns));
  if (body.next_cursor) run.print(`more: --cursor ${body.next_cursor}`);
}

/** Prints one object as `field value` lines or as the API's JSON. */
export function printRecord(run, body, fields) {
  run.print(run.values.json ? asJson(body) : record(body, fields));
}

/**
 * Writes `text` to `path`, readable and writable by its owner alone (0600), also over a file that
 * was there: writeFileSync's `mode` applies only to a file it creates, and an older export (0644
 * under the usual umask) kept its mode with a tenant's audit log written into it. The mode is set
 * before the file is emptied, so the new text is never in a file others may read, and a file this
 * user cannot chmod (another user's) is refused as it is. A pipe or a terminal (`--out
 * /dev/stdout`) is written as before: it keeps nothing.
 */
function writeOwnerOnly(/** @type {string} */ path, /** @type {string} */ text) {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) {
      if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      ftruncateSync(fd, 0);
    }
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Prints `text` as it is, or with --out writes it to that file and says so: under --json as
 * JSON (`{"wrote", "bytes"}`), since a script reading --json output parses stdout. `ownerOnly`:
 * the text holds personal data or secrets (a tenant's audit log), so the file is made 0600.
 */
export function writeOut(run, text, { ownerOnly = false } = {}) {
  if (run.values.out === undefined) return process.stdout.write(text);
  try {
    if (ownerOnly) writeOwnerOnly(run.values.out, text);
    else writeFileSync(run.values.out, text);
  } catch (error) {
    throw new CliError(`cannot write --out ${run.values.out}: ${error.code ?? error.message}`, EXIT.usage);
  }
  if (run.values.json) run.print(asJson({ wrote: run.values.out, bytes: Buffer.byteLength(text) }));
  else run.print(`wrote ${run.values.out}`);
}

export const platform = (run) => connect(run.url, platformKey(run.url), run.stderr.warn, run.bounds);
export const tenant = (run) =>
  connect(run.url, tenantKey(run.values["key-file"], run.stderr.warn), run.stderr.warn, run.bounds);
