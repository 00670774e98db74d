// `plinth db renumbered <new.sql> --from <old.sql>…`: after a merge of plinth's updates, a fork's
// migrations regenerated as one after plinth's (docs/operations.md, "Taking plinth's updates")
// make the same tables as the files they replace. wrangler records a migration by its file name,
// so every database that applied the old files would apply the new one again and fail ("table …
// already exists"); and the old names, which no build ships any more, would keep /readyz at
// "applied but not shipped". This records the new name in their place: the new name first, then
// the old ones forgotten, so a run that stops halfway (wrangler need not run the two statements
// as one transaction) leaves a database a re-run finishes, never one with neither recorded.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MIGRATIONS_FOLDER } from "./db-migrate.mjs";
import { bin, offlineEnv, root } from "./env.mjs";
import { unknownEnvironment } from "./wrangler-envs.mjs";

export const DB_RENUMBERED_HELP = `usage: plinth db renumbered <new.sql> --from <old.sql> [--from <old.sql>…] [--remote] [--env <name>] [--persist-to <dir>]

Records in D1's d1_migrations that <new.sql> is applied where every --from
migration was, and forgets those: for a fork's migrations regenerated as one
after plinth's (docs/operations.md, "Taking plinth's updates"). A database
that applied none of them is left alone (plinth db migrate applies <new.sql>);
one that applied only some is refused.

  --from <old.sql>    a migration file the new one replaces (removed from migrations/)
  --remote            the deployed D1 database instead of the local one
  --env <name>        the wrangler environment (staging, production)
  --persist-to <dir>  where the local D1 lives (wrangler's --persist-to)

exit codes: 0 recorded (or nothing to do), 1 refused or wrangler failed,
2 usage, or a wrangler.toml it cannot read with --env`;

/** A migration file name as wrangler records it: safe to put in SQL as a literal. */
const NAME = /^\d{4}_[A-Za-z0-9_.-]+\.sql$/;

/** Names checked against {@link NAME}, as a list of SQL literals. */
const quoted = (names) => names.map((n) => `'${n}'`).join(", ");

/** Runs `wrangler d1 execute DB … --json --command <sql>`; its rows, or the output that failed. */
function execute(sql, { remote, env, persistTo }) {
  const args = ["d1", "execute", "DB", remote ? "--remote" : "--local", "--json", "--command", sql];
  if (env) args.push("--env", env);
  if (persistTo) args.push("--persist-to", persistTo);
  return new Promise((resolve) => {
    const child = spawn(bin("wrangler"), args, { cwd: root, env: offlineEnv, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    // Decoded across reads: a non-ASCII character of a row split by two reads stays whole.
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("error", (error) => resolve({ ok: false, output: error.message }));
    child.on("close", (code) => {
      if (code !== 0) return resolve({ ok: false, output: `${out}${err}` });
      try {
        resolve({ ok: true, rows: JSON.parse(out).flatMap((r) => r.results ?? []) });
      } catch {
        resolve({ ok: false, output: `${out}${err}` });
      }
    });
  });
}

/**
 * `plinth db renumbered …`; resolves to the exit code.
 * @param {string[]} args
 * @param {{ folder?: string }} [options] where the migrations are (migrations/)
 */
export async function dbRenumberedCommand(args, { folder = MIGRATIONS_FOLDER } = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        from: { type: "string", multiple: true, default: [] },
        remote: { type: "boolean", default: false },
        env: { type: "string" },
        "persist-to": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    console.error(`plinth db renumbered: ${error.message}\n\n${DB_RENUMBERED_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(DB_RENUMBERED_HELP);
    return 0;
  }
  const [name, ...extra] = positionals;
  const olds = values.from;
  const usage = (message) => {
    console.error(`plinth db renumbered: ${message}\n\n${DB_RENUMBERED_HELP}`);
    return 2;
  };
  if (!name || extra.length > 0 || olds.length === 0) return usage("give one new migration and at least one --from");
  const bad = [name, ...olds].filter((n) => !NAME.test(n));
  if (bad.length > 0) return usage(`not a migration file name (0012_orders.sql): ${bad.join(", ")}`);
  if (!existsSync(join(folder, name))) return usage(`migrations/${name} does not exist`);
  // Still there, wrangler would apply it again once its record is gone.
  const kept = olds.filter((n) => existsSync(join(folder, n)));
  if (kept.length > 0) return usage(`${kept.join(", ")} still in migrations/: remove what ${name} replaces first`);
  const misspelt = await unknownEnvironment(values.env);
  if (misspelt) return usage(misspelt);

  const target = { remote: values.remote, env: values.env, persistTo: values["persist-to"] };
  const where = `${values.remote ? "remote" : "local"} D1${values.env ? ` (${values.env})` : ""}`;
  const read = await execute("SELECT name FROM d1_migrations", target);
  if (!read.ok) {
    process.stderr.write(read.output);
    console.error(`plinth db renumbered: could not read d1_migrations of the ${where}; see above`);
    return 1;
  }
  const applied = new Set(read.rows.map((r) => String(r.name)));
  const forget = async (names) => {
    const write = await execute(`DELETE FROM d1_migrations WHERE name IN (${quoted(names)})`, target);
    if (!write.ok) {
      process.stderr.write(write.output);
      console.error(`plinth db renumbered: could not write d1_migrations of the ${where}; see above`);
    }
    return write.ok;
  };
  if (applied.has(name)) {
    // An earlier run recorded the new name and stopped before forgetting the old ones: finish it.
    const left = olds.filter((n) => applied.has(n));
    if (left.length === 0) {
      console.log(`${where}: ${name} is recorded already; nothing to do`);
      return 0;
    }
    if (!(await forget(left))) return 1;
    console.log(`${where}: ${name} is recorded already; forgot ${left.join(", ")}, still recorded beside it`);
    return 0;
  }
  const have = olds.filter((n) => applied.has(n));
  if (have.length === 0) {
    console.log(`${where}: none of ${olds.join(", ")} applied here; plinth db migrate applies ${name}`);
    return 0;
  }
  if (have.length < olds.length) {
    const lacking = olds.filter((n) => !applied.has(n));
    console.error(
      `plinth db renumbered: the ${where} applied ${have.join(", ")} but not ${lacking.join(", ")}, so it has only part of what ${name} makes: apply those first (put them back, plinth db migrate, remove them) or, locally, start from an empty database (rm -rf .wrangler/state)`,
    );
    return 1;
  }
  // Two commands, insert first: stopped between them, the database records both, which a re-run
  // repairs above; deleting first could leave neither, and db migrate would make the tables again.
  const write = await execute(`INSERT INTO d1_migrations (name) VALUES ('${name}')`, target);
  if (!write.ok) {
    process.stderr.write(write.output);
    console.error(`plinth db renumbered: could not write d1_migrations of the ${where}; see above`);
    return 1;
  }
  if (!(await forget(olds))) return 1;
  console.log(`${where}: ${name} recorded as applied in place of ${olds.join(", ")}`);
  return 0;
}
