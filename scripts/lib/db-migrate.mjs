// `plinth db migrate`: applies migrations/ to the platform's databases.
// D1 (the `DB` binding: platform tables, and read models unless READ_MODEL_URL
// is set) through wrangler's own migration tracking (`d1_migrations`); a libSQL
// read-model database (READ_MODEL_URL) through drizzle's migrator
// (`__drizzle_migrations`), from the same SQL files. Both skip what is applied.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@libsql/client";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { bin, offlineEnv, root, run } from "./env.mjs";
import { LOOPBACK_HOST } from "./loopback.mjs";
import { unreadableJournal } from "./migration-journal.mjs";
import { unknownEnvironment } from "./wrangler-envs.mjs";

export const MIGRATIONS_FOLDER = join(root, "migrations");

/** The URL schemes @libsql/client opens. */
const LIBSQL_SCHEMES = ["libsql:", "https:", "wss:", "http:", "ws:", "file:"];

/**
 * Why `url` may not carry `authToken` (or a token in its own `?authToken=`), or null: a plain
 * http, ws or `?tls=0` URL to a host other than this machine puts `Authorization: Bearer <token>` on the wire for anyone on the path (the
 * Worker refuses such a READ_MODEL_URL too, src/kernel/read-models/config.ts). Names the URL's
 * host, never the token.
 * @param {string} url @param {string | undefined} authToken @returns {string | null}
 */
function cleartextToken(url, authToken) {
  const u = new URL(url);
  // The client also takes the token from the URL (`?authToken=`), and sends it the same way.
  if (!authToken && !u.searchParams.has("authToken")) return null;
  const plain =
    u.protocol === "http:" || u.protocol === "ws:" || (u.protocol === "libsql:" && u.searchParams.get("tls") === "0");
  if (!plain || LOOPBACK_HOST.test(u.hostname)) return null;
  return `READ_MODEL_URL ${u.protocol}//${u.host} is not TLS and not this machine: READ_MODEL_AUTH_TOKEN would cross the network in the clear; use libsql://, https:// or wss://`;
}

/** Whether `error` or one of its causes (drizzle wraps the driver's) says a table is missing. */
function noSuchTable(error) {
  for (let e = error; e; e = e.cause) if (String(e.message ?? e).includes("no such table")) return true;
  return false;
}

/** How many migrations drizzle's migrator has recorded in `db` (0 before the first). */
async function appliedCount(db) {
  try {
    const row = await db.get(sql`select count(*) as n from __drizzle_migrations`);
    return Number(row?.n ?? 0);
  } catch (error) {
    if (noSuchTable(error)) return 0;
    throw error;
  }
}

/**
 * Applies the journal's migrations that drizzle's migrator would skip: it applies only those whose
 * journal `when` is later than the last one recorded, so after a merge of plinth's updates,
 * plinth's new migrations (generated before the fork's own, which this database already has) would
 * never be applied, and nothing would say so. Applied here, each in one transaction with its record
 * (the hash and `when` drizzle keeps), like wrangler does for D1, which goes by file name.
 * @returns {Promise<string[]>} the tags applied
 */
async function applyOutOfOrder(client, db, folder) {
  if ((await appliedCount(db)) === 0) return [];
  const recorded = (await client.execute("select hash, created_at from __drizzle_migrations")).rows;
  const hashes = new Set(recorded.map((r) => String(r.hash)));
  const last = Math.max(...recorded.map((r) => Number(r.created_at)));
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8"));
  const files = readMigrationFiles({ migrationsFolder: folder });
  const skipped = files
    .map((file, i) => ({ ...file, tag: journal.entries[i].tag }))
    .filter((m) => !hashes.has(m.hash) && m.folderMillis <= last);
  if (skipped.length === 0) return [];
  // A recorded hash no file has: an applied migration was edited, so which ones are new is a guess.
  if (recorded.length + skipped.length > files.length) {
    throw new Error(
      `libSQL: ${skipped.map((m) => m.tag).join(", ")} predate the last migration applied, and ${recorded.length + skipped.length - files.length} applied migration(s) match no file (edited after they were applied?): not guessing which to apply`,
    );
  }
  for (const m of skipped) {
    const statements = m.sql.map((q) => q.trim()).filter((q) => q.length > 0);
    await client.batch(
      [
        ...statements,
        {
          sql: 'insert into __drizzle_migrations ("hash", "created_at") values (?, ?)',
          args: [m.hash, m.folderMillis],
        },
      ],
      "write",
    );
  }
  return skipped.map((m) => m.tag);
}

/**
 * Applies the pending migrations to the libSQL database at `url` (file:,
 * libsql:, http(s):), each in one transaction; also those older than the last
 * one applied (a merge brought them: `outOfOrder`), which drizzle's migrator skips.
 * @param {{ url: string, authToken?: string, folder?: string }} target
 * @returns {Promise<{ before: number, after: number, outOfOrder: string[] }>} migrations recorded before and after
 */
export async function migrateLibsql({ url, authToken, folder = MIGRATIONS_FOLDER }) {
  const cleartext = cleartextToken(url, authToken);
  if (cleartext) throw new Error(cleartext);
  const client = createClient({ url, authToken });
  try {
    const db = drizzle(client);
    const before = await appliedCount(db);
    const outOfOrder = await applyOutOfOrder(client, db, folder);
    await migrate(db, { migrationsFolder: folder });
    return { before, after: await appliedCount(db), outOfOrder };
  } finally {
    client.close();
  }
}

/**
 * Applies the pending D1 migrations with wrangler: the local database
 * (`--local`, optionally `--persist-to <dir>`) or the deployed one
 * (`--remote`), of the wrangler environment `env` when given.
 * @param {{ remote?: boolean, env?: string, persistTo?: string }} options
 * @returns {Promise<number>} wrangler's exit code
 */
export function migrateD1(options = {}) {
  return run(bin("wrangler"), d1Args(options));
}

/** wrangler's arguments for applying the D1 migrations of `migrateD1`'s options. */
function d1Args({ remote = false, env, persistTo } = {}) {
  const args = ["d1", "migrations", "apply", "DB", remote ? "--remote" : "--local"];
  if (env) args.push("--env", env);
  if (persistTo) args.push("--persist-to", persistTo);
  return args;
}

/** A migration file's name as wrangler's tables print it. */
const MIGRATION_NAME = /\b\d{4}_[A-Za-z0-9_.-]+\.sql\b/g;

/**
 * `migrateD1` with wrangler's output kept rather than shown, for `npm start`: on a fresh
 * clone wrangler prints a table per migration applied (some 150 lines before the Worker
 * starts). The caller prints `output` when `code` is not 0.
 * @param {{ remote?: boolean, env?: string, persistTo?: string }} options
 * @returns {Promise<{ code: number, applied: string[], output: string }>}
 */
export function migrateD1Quietly(options = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin("wrangler"), d1Args(options), {
      cwd: root,
      env: offlineEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => resolve({ code: 127, applied: [], output: `wrangler: ${error.message}\n` }));
    child.on("close", (code, signal) => {
      // The names listed before wrangler asks to apply them; none when it finds nothing pending.
      const planned = output.split("About to apply")[0].split("Migrations to be applied")[1] ?? "";
      const applied = [...new Set(planned.match(MIGRATION_NAME) ?? [])];
      resolve({ code: code ?? (signal ? 128 : 1), applied, output });
    });
  });
}

export const DB_MIGRATE_HELP = `usage: plinth db migrate [--remote] [--env <name>] [--persist-to <dir>] [--only d1|libsql]

Applies the pending migrations of migrations/ to D1 (the DB binding; --local
unless --remote, through wrangler) and, when READ_MODEL_URL names a libSQL
read-model database, to it as well (drizzle's migrator). The libSQL URL and
token come from $READ_MODEL_URL and $READ_MODEL_AUTH_TOKEN, or from .dev.vars
for a local run; a token is never taken from a flag.

  --remote            the deployed D1 database instead of the local one
  --env <name>        the wrangler environment (staging, production)
  --persist-to <dir>  where the local D1 lives (wrangler's --persist-to)
  --only d1|libsql    one of the two

exit codes: 0 applied (or nothing pending), 1 a migration failed,
2 usage, or a project file it cannot read (wrangler.toml with --env,
migrations/meta/_journal.json with libSQL), before anything is applied,
3 the libSQL server could not be reached, 4 it refused the token`;

/** The libSQL target of this run, or undefined: the environment first, then .dev.vars when local. */
function libsqlTarget(remote, devVars) {
  const source = process.env.READ_MODEL_URL ? process.env : remote ? {} : devVars;
  const url = source.READ_MODEL_URL;
  return url ? { url, authToken: source.READ_MODEL_AUTH_TOKEN || undefined } : undefined;
}

/** Where a libSQL URL points, without its query (never a token, which is not in the URL anyway). */
const shown = (url) => {
  const u = new URL(url);
  return u.protocol === "file:" ? url : `${u.protocol}//${u.host}`;
};

/**
 * `plinth db migrate …`; resolves to the exit code.
 * @param {string[]} args
 * @param {() => Record<string, string>} readDevVars
 */
export async function dbMigrateCommand(args, readDevVars) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        remote: { type: "boolean", default: false },
        env: { type: "string" },
        "persist-to": { type: "string" },
        only: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`plinth db migrate: ${error.message}\n\n${DB_MIGRATE_HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(DB_MIGRATE_HELP);
    return 0;
  }
  if (values.only !== undefined && values.only !== "d1" && values.only !== "libsql") {
    console.error("plinth db migrate: --only takes d1 or libsql");
    return 2;
  }
  const misspelt = await unknownEnvironment(values.env);
  if (misspelt) {
    console.error(`plinth db migrate: ${misspelt}`);
    return 2;
  }
  const libsql = values.only === "d1" ? undefined : libsqlTarget(values.remote, readDevVars());
  if (values.only === "libsql" && !libsql) {
    console.error("plinth db migrate: --only libsql needs READ_MODEL_URL (the libSQL read-model database)");
    return 2;
  }
  if (libsql) {
    let protocol;
    try {
      protocol = new URL(libsql.url).protocol;
    } catch {
      console.error("plinth db migrate: READ_MODEL_URL is not a URL");
      return 2;
    }
    if (!LIBSQL_SCHEMES.includes(protocol)) {
      console.error(
        `plinth db migrate: READ_MODEL_URL must be a libsql:, https:, wss:, http:, ws: or file: URL, not ${protocol}`,
      );
      return 2;
    }
    const cleartext = cleartextToken(libsql.url, libsql.authToken);
    if (cleartext) {
      console.error(`plinth db migrate: ${cleartext}`);
      return 2;
    }
  }
  if (libsql) {
    const unreadable = unreadableJournal(MIGRATIONS_FOLDER);
    if (unreadable) {
      const journal = relative(root, join(MIGRATIONS_FOLDER, "meta", "_journal.json"));
      console.error(
        `plinth db migrate: cannot read ${journal} (drizzle-kit's record of the migrations, which libSQL is migrated from): ${unreadable}; nothing applied. Restore it (git checkout migrations/meta) or, after a merge, see docs/operations.md, "Taking plinth's updates"`,
      );
      return 2;
    }
  }
  if (values.only !== "libsql") {
    const where = values.remote ? "remote" : "local";
    console.log(`plinth: applying ${where} D1 migrations…`);
    const code = await migrateD1({ remote: values.remote, env: values.env, persistTo: values["persist-to"] });
    if (code !== 0) {
      console.error(`plinth db migrate: the ${where} D1 migrations failed (wrangler exit ${code}); see above`);
      return 1;
    }
  }
  if (libsql) {
    console.log(`plinth: applying libSQL migrations to ${shown(libsql.url)}…`);
    try {
      const { before, after, outOfOrder } = await migrateLibsql(libsql);
      console.log(`libSQL: ${after - before} applied, ${after} in all`);
      if (outOfOrder.length > 0) {
        console.log(`libSQL: applied after later ones (a merge brought them): ${outOfOrder.join(", ")}`);
      }
    } catch (error) {
      const reason = causes(error);
      // The client reports a refused token as SERVER_ERROR, like a server that is down.
      const status = /HTTP status (401|403)\b/.exec(reason)?.[1];
      if (status) {
        console.error(
          `plinth db migrate: the libSQL server refused the token (HTTP ${status}): check READ_MODEL_AUTH_TOKEN`,
        );
        return 4;
      }
      const unreachable = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|ETIMEDOUT|SERVER_ERROR|HRANA_WEBSOCKET/i.test(
        reason,
      );
      console.error(
        `plinth db migrate: libSQL ${unreachable ? "could not be reached" : "migration failed"}: ${reason}`,
      );
      return unreachable ? 3 : 1;
    }
  }
  return 0;
}

/** An error's message with its causes' (drizzle and the client wrap the driver's). */
function causes(error) {
  const parts = [];
  for (let e = error; e && parts.length < 4; e = e.cause) {
    const message = e.message ?? String(e);
    // drizzle's wrapper repeats the query; the driver's message under it says what went wrong.
    if (!message.startsWith("Failed query:")) parts.push(message);
  }
  return parts.join(": ");
}
