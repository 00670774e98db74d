#!/usr/bin/env node
// The `plinth` CLI.
//   plinth audit verify <file.ndjson> [--jwks <url-or-file>] [--tenant <id>] [--max-age <duration>] [--timeout <duration>]
//     Verifies an audit export offline: recomputes the hash chain (RFC 8785 JCS
//     + SHA-256), checks the closing checkpoint against the chain and, with
//     --jwks, its Ed25519 signature. Exit 0 intact (an empty log's export too: its
//     checkpoint signs seq 0; a version 2 checkpoint signs its time, which --max-age bounds), 1 broken
//     (prints the first broken seq), missing the closing checkpoint, an empty file
//     (unverifiable) or older than --max-age (stale), 2 usage or input errors.
//   plinth new module <name> [--aggregate <type>] [--actor] | --projection <publisher>
//     Writes a module with plinth's module anatomy (or, with --projection, a read model of
//     another module's events), its tests and migration, and registers it (docs/modules.md).
//   plinth modules list | validate
//     Prints the registry (name, version, dependencies, permissions, events,
//     routes), or every manifest problem with its module named (exit 1).
//   plinth db migrate [--remote] [--env <name>] [--persist-to <dir>] [--only d1|libsql]
//     Applies migrations/ to D1 and, when READ_MODEL_URL is set, to the
//     libSQL read-model database (scripts/lib/db-migrate.mjs).
//   plinth db renumbered <new.sql> --from <old.sql>… [--remote] [--env <name>]
//     Records a fork's migrations regenerated after a merge of plinth's updates
//     as applied where the files they replace were (scripts/lib/db-renumbered.mjs).
//   plinth tenants|keys|dead-letters|mail-dead-letters|webhooks|events|jobs|crypto|openapi ..., plinth audit export|check|rebuild
//     Remote commands against a plinth URL through the typed client
//     (scripts/lib/remote-commands.mjs); `plinth --help` lists them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { importJwks, parseExport, signsItsTime, verifyExport } from "./lib/audit-chain.mjs";
import { stderrOf } from "./lib/cli-stderr.mjs";
import { DB_MIGRATE_HELP, dbMigrateCommand } from "./lib/db-migrate.mjs";
import { DB_RENUMBERED_HELP, dbRenumberedCommand } from "./lib/db-renumbered.mjs";
import { readDevVars } from "./lib/dev-setup.mjs";
import { durationMs, timeoutMs } from "./lib/duration.mjs";
import { bin, root, runQuietly } from "./lib/env.mjs";
import { fetchWithin, NoAnswer } from "./lib/fetch-within.mjs";
import { boundClasses, objectProblems, workerExports, wranglerTomlProblem } from "./lib/module-objects.mjs";
import { loadRegistry, rateLimitsOf, routesOf, tableNamesOf } from "./lib/registry.mjs";
import { commands, EXIT_HELP, findCommand, runCommand } from "./lib/remote-commands.mjs";
import {
  checkpoint,
  defaultType,
  problemsOf,
  projectionProblemsOf,
  register,
  scaffold,
  scaffoldProjection,
} from "./lib/scaffold.mjs";
import { actorNamesOf, actorProblems, bindActor, exportActor } from "./lib/scaffold-actor.mjs";
import { projectionNamesOf, publisherProblem } from "./lib/scaffold-projection.mjs";
import { namesOf } from "./lib/scaffold-templates.mjs";

/** What `new module <name>` takes: an aggregate (and an actor), or a projection of another module's events. */
const USAGE_TAIL = "[--aggregate <type>] [--actor] | --projection <publisher>";

const LOCAL = [
  [
    "audit verify <file.ndjson> [--jwks <url-or-file>] [--tenant <id>] [--max-age <duration>] [--timeout <duration>]",
    "verify an audit export offline",
  ],
  [`new module <name> ${USAGE_TAIL}`, "write a module with its tests and migration"],
  ["modules list | validate", "print the module registry, or its problems"],
  // The usage line of db migrate's own --help, so the two cannot drift apart.
  [DB_MIGRATE_HELP.split("\n")[0].replace(/^usage: plinth /, ""), "apply migrations to D1 and the libSQL read models"],
  [
    "db renumbered <new.sql> --from <old.sql>… [--remote] [--env <name>]",
    "record a fork's regenerated migration where the ones it replaces were applied",
  ],
];

/** Each local command's --help (db migrate has its own, DB_MIGRATE_HELP). */
const LOCAL_HELP = {
  "audit verify": [
    "usage: plinth audit verify <file.ndjson> [--jwks <url-or-file>] [--tenant <id>] [--max-age <duration>] [--timeout <duration>]",
    "",
    "Verifies an audit export (GET /api/v1/admin/audit/export) offline: recomputes the hash",
    "chain and checks the closing checkpoint against it and, with --jwks, its Ed25519 signature.",
    "",
    "options:",
    "  --jwks <url-or-file>  the JWKS of the plinth that exported the file (its /.well-known/jwks.json)",
    "  --tenant <id>         the tenant whose log the file must be (its export names it): another",
    "                        tenant's export, signed as well for its own log, exits 1",
    "  --max-age <duration>  (with --jwks) an export whose checkpoint was signed longer ago than",
    "                        this (30s, 15m, 24h, 7d) exits 1, stale: demand a fresh one. A version 1",
    '                        checkpoint (no "v": 2, stored before versions) exits 1, unverifiable:',
    "                        its signature does not cover its time",
    "  --timeout <duration>  how long a --jwks URL has to answer, body included (default 30s, at",
    "                        most 24h); past it, exit 2 naming the URL",
    "  --help, -h            this help",
    "",
    'Every checkpoint signed now is version 2 ("v": 2): its signature covers its signed_at, and the',
    'verdict says when: ok: tenant "<id>", N entries, last seq N, as of <signed_at>, ...',
    "An empty log's export is one checkpoint line at seq 0, signed at the export:",
    'ok: tenant "<id>", empty as of <signed_at>, ...',
    "",
    "Exit: 0 intact (an empty log's export too), 1 changed, removed, reordered or cut short (the",
    "first broken seq is printed), proving nothing (an empty file: unverifiable) or older than",
    "--max-age (stale), 2 usage or a file that cannot be read.",
  ],
  "new module": [
    `usage: plinth new module <name> ${USAGE_TAIL}`,
    "",
    "Writes a module with plinth's module anatomy (manifest, decider, routes, read model,",
    "projection), its tests and migration, and registers it (docs/modules.md).",
    "With --projection, a module with no aggregate: a read model of a registered module's events.",
    "",
    "options:",
    "  --aggregate <type>  the aggregate type (default: the name without a trailing s, else item:",
    "                      ledger gets /api/v1/ledger/items)",
    "  --actor             also a per-tenant actor, <Name>Actor bound as <NAME>_ACTOR: its contract,",
    "                      class and test, exported from src/index.ts, bound in wrangler.toml (every",
    "                      environment, the next migration tag) and erased with its tenant",
    "  --projection <publisher>",
    "                      instead of an aggregate: one row per stream of <publisher>'s events",
    "                      (<name>_streams: last version and type, first and last occurred_at),",
    "                      kept by a repeat-safe batched subscription, listed at GET /api/v1/<name>",
    "                      (members read), depends_on the publisher, erased with its tenant. Not",
    "                      with --aggregate or --actor; <publisher> must be registered and publish events",
    "  --help, -h          this help",
    "",
    "Exit: 0 written, 1 a generation step failed, 2 usage or a name that is taken.",
  ],
  "modules list": [
    "usage: plinth modules list",
    "",
    "Prints the module registry in dependency order: each module's version, dependencies,",
    "permissions (with grants, and the event read rules webhooks need), events, aggregates, jobs,",
    "its own rate-limit policies (the names RATE_LIMITS takes), sealed field kinds, its data",
    "(tables, personal data, erasure: what a deleted tenant's erasure and a person's export",
    "reach), bindings, variables, errors and routes.",
    "",
    "Exit: 0 listed, 1 the modules do not load or have problems (as modules validate prints).",
  ],
  "modules validate": [
    "usage: plinth modules validate",
    "",
    "Checks every module manifest and prints each problem with its module named, and each Durable",
    "Object binding a module declares: bound in wrangler.toml, its class exported by src/index.ts,",
    "and answering ping (what /readyz calls).",
    "",
    "Exit: 0 no problems, 1 problems (or the modules do not load, or wrangler.toml does not parse).",
  ],
};

/** A command and its summary, the summary under it when the command is long. */
const line = (command, summary) =>
  command.length > 52 ? `  ${command}\n  ${"".padEnd(52)} ${summary}` : `  ${command.padEnd(52)} ${summary}`;

/**
 * The remote commands that take one kind of key, as `plinth --help` names them: a whole group
 * when each of its commands takes that key, else the command itself (`audit export`, whose
 * group's `audit verify` takes none). Derived, so a new command cannot be left out. A command
 * of `either` key takes a tenant's, or with --tenant <id> the root key.
 */
function keyedBy(/** @type {("platform" | "tenant" | "either")[]} */ ...auths) {
  const names = [];
  for (const command of commands.filter((c) => auths.includes(c.auth))) {
    const group = command.name.split(" ")[0];
    const inGroup = (name) => name.startsWith(`${group} `);
    const whole =
      commands.every((c) => !inGroup(c.name) || auths.includes(c.auth)) && !LOCAL.some(([usage]) => inGroup(usage));
    const name = whole ? group : command.name;
    if (!names.includes(name)) names.push(name);
  }
  return names.join(", ");
}

const USAGE = [
  "usage: plinth <command> [options]    (plinth <command> --help for one)",
  "",
  "local commands:",
  ...LOCAL.map(([c, s]) => line(c, s)),
  "",
  "remote commands (--url <url> or $PLINTH_URL, default http://127.0.0.1:8787; --json for JSON output, each command's --help says what):",
  ...commands.map((c) => line(`${c.name} ${c.args}`.trimEnd(), c.summary)),
  "",
  "Keys never go in a flag's value (shell history, ps): platform commands",
  `(${keyedBy("platform")}) read $PLATFORM_ROOT_KEY (for a local plinth, .dev.vars);`,
  `tenant commands (${keyedBy("tenant", "either")}) read $PLINTH_KEY or --key-file <path>;`,
  `with --tenant <id>, ${keyedBy("either")} act for that tenant with $PLATFORM_ROOT_KEY instead.`,
  EXIT_HELP,
].join("\n");
/** Every command's usage, as `plinth --help` lists them: what a --json usage error names. */
const ALL_COMMANDS = [
  ...LOCAL.map(([c]) => `plinth ${c}`),
  ...commands.map((c) => `plinth ${c.name} ${c.args}`.trimEnd()),
];

/**
 * Exits 2 after `message` and the usage of `command` (a local one), or of every command. With
 * --json anywhere on the line, one JSON line instead (a script parses each stderr line), naming
 * every command where it would print them all.
 */
function usage(message, command) {
  if (process.argv.includes("--json")) {
    const fields = command ? { usage: LOCAL_HELP[command][0].replace(/^usage: /, "") } : { commands: ALL_COMMANDS };
    console.error(JSON.stringify({ error: "usage", exit_code: 2, detail: message ?? "name a command", ...fields }));
    process.exit(2);
  }
  if (message) console.error(`plinth: ${message}`);
  console.error(command ? `${LOCAL_HELP[command][0]}   (plinth ${command} --help)` : USAGE);
  process.exit(2);
}

/**
 * A usage error of a local command whose usage is not in LOCAL_HELP (modules list|validate take
 * no arguments; db's commands have their own help): under --json one JSON line, as usage() writes.
 */
function jsonUsage(message, usageLine) {
  console.error(JSON.stringify({ error: "usage", exit_code: 2, detail: message, usage: usageLine }));
  process.exitCode = 2;
}

/**
 * An error no local command expected (a bug): exit 5 and one line, a JSON one under --json, as a
 * remote command's (scripts/lib/cli-stderr.mjs), never Node's stack trace; the stack only with
 * PLINTH_DEBUG=1. Remote commands report their own inside runCommand.
 */
function localBug(error) {
  process.exitCode = stderrOf(process.argv.includes("--json"), console.error).internal(error, { personStack: false });
}
process.on("uncaughtException", localBug);
process.on("unhandledRejection", localBug);

/** How long `audit verify` waits for a --jwks URL to answer, body included, unless --timeout says. */
const JWKS_TIMEOUT_MS = 30_000;

/**
 * The JWKS at `source` (a URL or a file). A URL gets `timeout.ms` to answer, its body included:
 * a server that takes the connection and never answers (or stalls mid-body) would otherwise hold
 * the command for Node's 300 s, and an auditor's script with it.
 */
async function loadJwks(source, timeout) {
  if (/^https?:\/\//.test(source)) {
    let res;
    try {
      res = await fetchWithin(source, undefined, timeout);
    } catch (error) {
      if (error instanceof NoAnswer) throw new Error(`${error.message} (--timeout)`);
      // fetch says only "fetch failed"; its cause says why (ECONNREFUSED: a wrong port, say).
      throw new Error(`cannot reach ${source}: ${error?.cause?.code ?? error?.cause?.message ?? error.message}`);
    }
    if (!res.ok) throw new Error(`GET ${source} answered ${res.status}`);
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      // JSON.parse would say "Unexpected token '<'": the page it got names the mistake better.
      const type = (res.headers.get("content-type") ?? "").split(";")[0] || "no content type";
      throw new Error(
        `${source} answered ${res.status} with ${type}, not JSON: is it a plinth's /.well-known/jwks.json?`,
      );
    }
  }
  return JSON.parse(readFileSync(source, "utf8"));
}

async function auditVerify(args) {
  let file = null;
  let jwksSource = null;
  let tenant = null;
  let maxAge = null;
  let timeout = { spelled: "30s", ms: JWKS_TIMEOUT_MS };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--max-age") {
      const spelled = args[++i] ?? usage("--max-age needs a duration (e.g. 15m, 24h, 7d)", "audit verify");
      maxAge = {
        spelled,
        ms:
          durationMs(spelled) ?? usage(`--max-age ${spelled}: not a duration like 30s, 15m, 24h or 7d`, "audit verify"),
      };
    } else if (arg === "--timeout") {
      const spelled = args[++i] ?? usage("--timeout needs a duration (e.g. 10s, 1m)", "audit verify");
      const bound = timeoutMs(spelled);
      if ("error" in bound) usage(bound.error, "audit verify");
      timeout = { spelled, ms: bound.ms };
    } else if (arg === "--jwks") {
      jwksSource = args[++i] ?? usage("--jwks needs a URL or a file", "audit verify");
    } else if (arg === "--tenant") {
      tenant = args[++i] ?? usage("--tenant needs the tenant's id", "audit verify");
    } else if (arg.startsWith("--")) {
      usage(`unknown option ${arg}`, "audit verify");
    } else if (file === null) {
      file = arg;
    } else {
      usage("one file at a time", "audit verify");
    }
  }
  if (file === null) usage("name the export file", "audit verify");
  // The time is only as good as the signature over it: without the keys, an edited date would pass.
  if (maxAge !== null && jwksSource === null)
    usage("--max-age needs --jwks: only a checked signature vouches for when", "audit verify");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    usage(`cannot read ${file}: ${error.code ?? error.message}`, "audit verify");
  }
  let parsed;
  try {
    parsed = parseExport(text);
  } catch (error) {
    // A line that is not JSON is a broken export, not a usage error.
    console.log(`broken: ${error.message}`);
    process.exit(1);
  }
  let keys = null;
  if (jwksSource !== null) {
    try {
      keys = await importJwks(await loadJwks(jwksSource, timeout));
    } catch (error) {
      usage(`cannot load the JWKS: ${error.message}`, "audit verify");
    }
  }
  const result = await verifyExport(parsed, keys);
  if (result.problem === "empty_export") {
    // A file cut to nothing, or an empty log's export from before those closed with a checkpoint at
    // seq 0 (an empty body): nothing in it is signed, so exit 0 would vouch for either.
    console.log(
      "unverifiable: empty export (no entries, no checkpoint): nothing in it is signed, so it proves nothing, not even that the log is empty; an empty log's export holds a checkpoint at seq 0 (export it again), and GET /api/v1/admin/audit/verify tells how many entries the log holds",
    );
    process.exit(1);
  }
  // A checkpoint vouches for its tenant's log only, and every tenant's empty log exports a signed seq 0:
  // another tenant's file verifies as well as the right one's, so the verdict names whose log it is,
  // and --tenant refuses any other (a log of thousands of entries passed off as an empty one's).
  if (result.ok && tenant !== null && parsed.tenantId !== tenant) {
    console.log(
      parsed.tenantId === null
        ? `broken: this export names no tenant, and --tenant asks for ${JSON.stringify(tenant)}'s log`
        : `broken: this is the export of tenant ${JSON.stringify(parsed.tenantId)}, not of tenant ${JSON.stringify(tenant)} (--tenant); its signature vouches for ${parsed.tenantId}'s log only`,
    );
    process.exit(1);
  }
  const whose = parsed.tenantId === null ? "no tenant named" : `tenant ${JSON.stringify(parsed.tenantId)}`;
  // A version 2 checkpoint signs its signed_at: the chain was where it says as of then, and no later
  // is vouched for, so the verdict says when, and --max-age refuses one older than the operator
  // accepts. A version 1 checkpoint (stored before versions) does not sign its time: --max-age
  // cannot bound it.
  const signedAt = result.ok && signsItsTime(parsed.checkpoint) ? parsed.checkpoint.signed_at : null;
  const empty = result.ok && parsed.checkpoint.seq === 0;
  if (result.ok && maxAge !== null && signedAt === null) {
    console.log(
      `unverifiable: --max-age: the checkpoint at seq ${parsed.checkpoint.seq} is a version 1 checkpoint (no "v": 2), whose signature does not cover its signed_at, so nothing here says how fresh the export is; export the log again for a version 2 checkpoint; the chain and its signature verify without --max-age`,
    );
    process.exit(1);
  }
  if (result.ok && maxAge !== null && !(Date.now() - Date.parse(signedAt) <= maxAge.ms)) {
    console.log(
      empty
        ? `stale: ${whose}'s log was empty as of ${signedAt}, more than ${maxAge.spelled} ago (--max-age); it may have entries since: export it again`
        : `stale: ${whose}'s log reached seq ${parsed.checkpoint.seq} as of ${signedAt}, more than ${maxAge.spelled} ago (--max-age); it may have entries since: export it again`,
    );
    process.exit(1);
  }
  if (result.ok) {
    const sig = { valid: "signature valid", unchecked: "signature not checked (no --jwks)" };
    const what = empty
      ? `empty as of ${signedAt}`
      : `${result.entries} entries, last seq ${result.last_seq}${signedAt === null ? "" : `, as of ${signedAt}`}`;
    console.log(`ok: ${whose}, ${what}, ${sig[result.signature]}`);
    process.exit(0);
  }
  if (result.problem === "no_checkpoint") {
    console.log(
      `broken: no checkpoint line after the ${result.entries} entries; every export ends with one, so this file was cut short or the line removed`,
    );
  } else if (result.problem === "malformed_checkpoint") {
    console.log(
      "broken: the checkpoint line holds no checkpoint (an export's holds the seq, hash, kid and signature of its last entry)",
    );
  } else if (result.problem === "extra_checkpoint") {
    console.log("broken: more than one checkpoint line; an export ends with exactly one");
  } else if (result.problem === "missing_entries") {
    console.log(
      `broken at seq ${result.broken_seq}: the file ends at seq ${result.entries}, the checkpoint covers up to seq ${result.covered_seq}`,
    );
  } else if (result.problem === "unknown_kid") {
    console.log(
      `unverified at seq ${result.broken_seq}: the checkpoint is signed with key ${JSON.stringify(parsed.checkpoint.kid)}, which the JWKS does not hold; ` +
        "use the JWKS of the plinth that exported the file (a rotated key stays verifiable only while its JWKS lists it)",
    );
  } else if (result.problem === "signature_invalid") {
    console.log(
      `broken at seq ${result.broken_seq}: the entries recompute, but the checkpoint's signature does not verify with key ${JSON.stringify(parsed.checkpoint.kid)} (the checkpoint line or its tenant_id was changed)`,
    );
  } else if (result.problem === "after_checkpoint") {
    console.log(`broken at seq ${result.broken_seq}: entries after the checkpoint, which does not cover them`);
  } else {
    console.log(`broken at seq ${result.broken_seq}`);
  }
  process.exit(1);
}

async function newModule(args) {
  const [name, ...options] = args;
  if (!name || name.startsWith("--")) usage(`name the module: plinth new module <name> ${USAGE_TAIL}`, "new module");
  let type = defaultType(name);
  let actor;
  let aggregate = false;
  let publisher;
  for (let i = 0; i < options.length; i++) {
    if (options[i] === "--aggregate") {
      type = options[++i] ?? usage("--aggregate needs a type", "new module");
      aggregate = true;
    } else if (options[i] === "--actor") actor = actorNamesOf(name);
    else if (options[i] === "--projection") {
      publisher = options[++i] ?? usage("--projection needs the module whose events it follows", "new module");
    } else usage(`unknown option ${options[i]}`, "new module");
  }
  if (publisher !== undefined) {
    // A projection has no aggregate of its own; one module doing both is two modules' work.
    if (aggregate || actor)
      usage("--projection writes a module with no aggregate: it takes no --aggregate or --actor", "new module");
    return newProjection(name, publisher);
  }
  const problems = problemsOf(root, name, type);
  // Its names come from the module's: a name that is not one leaves nothing to check.
  if (actor && problems.length === 0) problems.push(...actorProblems(root, actor));
  if (problems.length > 0) {
    for (const p of problems) console.error(`plinth: ${p}`);
    process.exit(2);
  }
  // Taken before a file is written: a step that fails puts the tree back as it was, rather than
  // leave a module written (and perhaps registered) that the next try refuses as existing.
  const restore = checkpoint(root, name);
  const written = scaffold(root, name, type, actor);
  const its = actor ? `, actor ${actor.Class}` : "";
  await generated(name, restore, written, actor);
  console.log(
    `\nmodule ${name} (aggregate ${type}${its}) is registered; its routes are under ${namesOf(name, type).url}.`,
  );
  console.log(
    "next: npm test; a running npm start applies its migration and serves the routes (else: npx plinth db migrate)." +
      '\nthen make it yours (a command, a status, a field): docs/modules.md, "Making the scaffold yours".',
  );
}

/** `new module <name> --projection <publisher>`: checked, written, then generated as any module. */
async function newProjection(name, publisher) {
  const problems = projectionProblemsOf(root, name);
  if (problems.length === 0) {
    // The registry as the Worker has it: which modules exist, and the event types each publishes.
    let registered;
    try {
      const { modules, publishedBy } = await loadRegistry();
      registered = modules.map((m) => ({ name: m.name, version: m.version, types: publishedBy(m) }));
    } catch (error) {
      console.error(
        `plinth: the modules do not load, so --projection cannot read ${publisher}'s events: ${error.message}`,
      );
      process.exit(2);
    }
    const problem = publisherProblem(publisher, registered);
    if (problem) problems.push(problem);
    else {
      const source = registered.find((m) => m.name === publisher);
      return writeProjection(projectionNamesOf(name, source, source.types));
    }
  }
  for (const p of problems) console.error(`plinth: ${p}`);
  process.exit(2);
}

/** @param {import("./lib/scaffold-projection.mjs").ProjectionNames} n */
async function writeProjection(n) {
  const restore = checkpoint(root, n.name);
  const written = scaffoldProjection(root, n);
  await generated(n.name, restore, written);
  console.log(
    `\nmodule ${n.name} (projection of ${n.publisher}: ${n.types.length} event type${n.types.length === 1 ? "" : "s"}) is registered; its route is GET ${n.url}.`,
  );
  console.log(
    "next: npm test; a running npm start applies its migration and serves the route (else: npx plinth db migrate)." +
      "\nthen make it yours, and backfill it once deployed (npx plinth events replay " +
      `${n.name}:streams): docs/modules.md, "A projection of another module's events".`,
  );
}

/**
 * The steps after the files are written, for any module: its migration, permissions,
 * registration (and its actor's wiring), the generated sources, Biome. A step that fails puts the
 * tree back (`restore`) and exits 1.
 */
async function generated(name, restore, written, actor) {
  for (const file of written) console.log(`  wrote ${file}`);
  const undo = (why) => {
    restore(written);
    console.error(`plinth: ${why}; removed what was written, nothing is registered`);
    process.exit(1);
  };
  const step = async (command, commandArgs) => {
    const { code, output } = await runQuietly(command, commandArgs);
    // What it said is the reason it failed: shown then, and only then.
    if (code !== 0) {
      process.stderr.write(output);
      undo(`${command} ${commandArgs.join(" ")} failed (exit ${code})`);
    }
  };
  // drizzle-kit's table count and the generator's "wrote" lines are no news to the team: plinth
  // says what it wrote; each one's own output is shown if it fails.
  console.log(`  wrote ${await migrationOf(name, undo)}`);
  // Its permissions before it is registered: a running `npm start` rebuilds the Worker once
  // src/modules/index.ts imports the module, and routes reading PERMISSIONS.<name> before that
  // exists stop the Worker from starting, which ends `wrangler dev`.
  await step(process.execPath, ["scripts/generate.mjs", "--sources-only", "--with", name]);
  written.push(register(root, name));
  console.log(`  registered ${name} in src/modules/index.ts`);
  if (actor) {
    // The class exported and bound, then Env regenerated from wrangler.toml (its binding's type
    // names the export), before the generator writes the binding's /readyz check name.
    written.push(exportActor(root, actor), bindActor(root, actor));
    console.log(`  registered ${actor.Class} in src/index.ts and wrangler.toml, bound as ${actor.binding}`);
    await step(bin("wrangler"), ["types", "--include-runtime=false", join("src", "worker-env.d.ts")]);
    console.log("  wrote src/worker-env.d.ts");
  }
  await step(process.execPath, ["scripts/generate.mjs"]);
  // Formatted and imports ordered as the repository's own lint wants them; Biome's count of
  // the files it fixed is no news to the team, its complaints are (shown if it fails).
  // Not wrangler.toml, which is no file of Biome's.
  await step(bin("biome"), ["check", "--write", ...written.filter((file) => file !== "wrangler.toml")]);
}

/**
 * Runs drizzle-kit for the new module and checks that it wrote the module's migration. drizzle-kit
 * exits 0 when it stops at a question it cannot ask without a terminal (is a changed column of
 * another read model a rename?), having written nothing: that is a failure too. Returns the
 * migration's path.
 */
async function migrationOf(name, undo) {
  const folder = join(root, "migrations");
  const before = new Set(readdirSync(folder));
  const { code, output } = await runQuietly(bin("drizzle-kit"), ["generate", "--name", name]);
  const made = readdirSync(folder).filter((f) => !before.has(f) && f.endsWith(`_${name}.sql`));
  if (code === 0 && made[0]) return `migrations/${made[0]}`;
  process.stderr.write(output);
  console.error(
    "plinth: if drizzle-kit asked whether a column was renamed, another read model has changes not generated yet: run `npx drizzle-kit generate --name <what>` in a terminal first, then this again.",
  );
  undo(`drizzle-kit wrote no migration for ${name} (exit ${code}; its output above)`);
}

async function modulesCommand(sub) {
  let registry;
  try {
    registry = await loadRegistry();
  } catch (error) {
    console.error(`plinth: the modules do not load: ${error.message}`);
    console.error("(run `npm run generate` if a module uses permissions not generated yet)");
    process.exit(1);
  }
  const { modules, resolveModules, publishedBy, ModuleRegistryError } = registry;
  let ordered;
  try {
    ordered = resolveModules(modules);
  } catch (error) {
    if (!(error instanceof ModuleRegistryError)) throw error;
    for (const p of error.problems) console.log(`${p.module}: ${p.problem}`);
    console.log(`${error.problems.length} problem${error.problems.length === 1 ? "" : "s"}`);
    process.exit(1);
  }
  if (sub === "validate") {
    // The objects the modules bind, as /readyz will ping them, and wrangler dev will bind them.
    // Checked only where src/index.ts loads in Node (the Worker's build fails on its own).
    // A wrangler.toml that does not parse is a problem of its own: wrangler dev and the
    // deploy refuse it too, and no binding can be checked against it.
    let classes;
    try {
      classes = await boundClasses(root);
    } catch (error) {
      console.error(`plinth: ${wranglerTomlProblem(error)}`);
      process.exit(1);
    }
    let problems = [];
    let unchecked = false;
    try {
      problems = objectProblems(ordered, classes, await workerExports(root));
    } catch (error) {
      // Loading src/index.ts builds the platform, which refuses a module route at a kernel
      // route's path (known only once the kernel's routes are mounted): a problem, not a load failure.
      if (error?.name === "ModuleRegistryError" && Array.isArray(error.problems)) problems = error.problems;
      else {
        console.error(`plinth: src/index.ts does not load in Node: ${error.message}`);
        unchecked = true;
      }
    }
    for (const p of problems) console.log(`${p.module}: ${p.problem}`);
    if (problems.length > 0) {
      console.log(`${problems.length} problem${problems.length === 1 ? "" : "s"}`);
      process.exit(1);
    }
    console.log(
      `ok: ${ordered.length} modules, no problems${unchecked ? " in their manifests (their Durable Objects not checked: above)" : ""}`,
    );
    return;
  }
  for (const m of ordered) {
    const line = (label, items) => {
      if (items.length > 0) console.log(`  ${label.padEnd(12)} ${items.join(", ")}`);
    };
    console.log(`${m.name} ${m.version}${m.description ? ` — ${m.description}` : ""}`);
    line(
      "depends on",
      Object.entries(m.depends_on ?? {}).map(([n, r]) => `${n} ${r}`),
    );
    line("permissions", [...(m.permissions ?? [])]);
    line(
      "grants",
      Object.entries(m.grants ?? {}).map(([role, permissions]) => `${role}: ${permissions.join(" ")}`),
    );
    // Who may follow the module's events by webhook (docs/modules.md, "Who may follow your events").
    line(
      "event read",
      Object.entries(m.event_read ?? {}).map(([pattern, permission]) => `${pattern}: ${permission}`),
    );
    line("publishes", publishedBy(m));
    line(
      "subscribes",
      (m.events?.subscribes ?? []).map((s) => `${s.name} (${s.types === "*" ? "*" : s.types.join(" ")})`),
    );
    line(
      "aggregates",
      (m.aggregates ?? []).map((a) => a.decider.type),
    );
    line(
      "jobs",
      (m.jobs ?? []).map((j) => `${j.name} (${j.cron})`),
    );
    // The names RATE_LIMITS and a tenant's settings take for the module's own policies.
    line("rate limits", rateLimitsOf(m));
    // Every kind the envelope seals for it: the stored ones (counted and re-sealed by plinth crypto),
    // then those it never stores.
    line("sealed", [...(m.sealed?.kinds ?? []), ...(m.sealed?.transient ?? []).map((k) => `${k} (transient)`)]);
    // What `plinth tenants delete` sends the operator here for: the rows the erasure's tables step
    // deletes by tenant_id, and the steps the module runs itself; and who adds to /me/export.
    line("tables", tableNamesOf(m));
    line("personal", m.personal_data ? ["its part of /me/export and /users/{id}/export"] : []);
    line(
      "erasure",
      ["shred", "erase"].filter((step) => typeof m.erasure?.[step] === "function"),
    );
    line("bindings", Object.keys(m.bindings ?? {}));
    line("variables", Object.keys(m.variables ?? {}));
    line("errors", Object.keys(m.errors ?? {}));
    for (const route of routesOf(m, registry.isMiddlewareRoute)) console.log(`  route        ${route}`);
  }
}

// Piped into `head`: the reader left, which is no failure of the command.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const [command, sub, ...rest] = process.argv.slice(2);
const isHelp = (arg) => arg === "--help" || arg === "-h";
const localHelp = LOCAL_HELP[`${command} ${sub}`];
/** The commands of a group (`keys`, `audit`, …), one line each with its summary. */
const groupOf = (name) => [
  ...LOCAL.filter(([c]) => c.startsWith(`${name} `)).map(([c, summary]) => [c, summary]),
  ...commands.filter((c) => c.name.startsWith(`${name} `)).map((c) => [`${c.name} ${c.args}`.trimEnd(), c.summary]),
];
try {
  if (localHelp && rest.some(isHelp)) {
    console.log(localHelp.join("\n"));
  } else if (command === "modules" && (sub === "list" || sub === "validate") && rest.length > 0) {
    const message = `modules ${sub} takes no arguments or options (got ${rest.join(" ")})`;
    if (rest.includes("--json")) jsonUsage(message, `plinth modules ${sub}`);
    else {
      console.error(`plinth: ${message}`);
      console.error(localHelp[0]);
      process.exitCode = 2;
    }
  } else if (command === "db" && process.argv.includes("--json")) {
    // db's commands print wrangler's output and their own lines, never JSON: refused as a script reads it.
    const help = { migrate: DB_MIGRATE_HELP, renumbered: DB_RENUMBERED_HELP }[sub];
    const usageLine = help ? help.split("\n")[0].replace(/^usage: /, "") : "plinth db migrate|renumbered …";
    jsonUsage(`${help ? `db ${sub}` : "db"} takes no --json`, usageLine);
  } else if (command === "audit" && sub === "verify") {
    await auditVerify(rest);
  } else if (command === "new" && sub === "module") {
    await newModule(rest);
  } else if (command === "modules" && (sub === "list" || sub === "validate")) {
    await modulesCommand(sub);
  } else if (command === "db" && sub === "migrate") {
    process.exitCode = await dbMigrateCommand(rest, readDevVars);
  } else if (command === "db" && sub === "renumbered") {
    process.exitCode = await dbRenumberedCommand(rest);
  } else if (command === "db") {
    (sub === "--help" ? console.log : console.error)(`${DB_MIGRATE_HELP}\n\n${DB_RENUMBERED_HELP}`);
    if (sub !== "--help") process.exitCode = 2;
  } else if (command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
  } else if (command && sub && findCommand(command, sub)) {
    process.exitCode = await runCommand(findCommand(command, sub), rest);
  } else if (command && command !== "db" && groupOf(command).length > 0) {
    // The group alone, `--help`, or a sub-command it does not have: list what it has.
    const help = isHelp(sub);
    const lines = groupOf(command).map(([c, summary]) => `  plinth ${c}\n      ${summary}`);
    if (sub && !help && rest.includes("--json")) {
      // A script's --json reads stderr as JSON: the refusal, and what the group has, as one line.
      const group = groupOf(command).map(([c]) => `plinth ${c}`);
      const detail = `unknown command ${command} ${sub}`;
      console.error(JSON.stringify({ error: "usage", exit_code: 2, detail, commands: group }));
    } else {
      if (sub && !help) console.error(`plinth: unknown command ${command} ${sub}`);
      (help ? console.log : console.error)(
        `plinth ${command}:\n${lines.join("\n")}\n(plinth ${command} <sub> --help for one)`,
      );
    }
    if (!help) process.exitCode = 2;
  } else {
    // `--json` is no part of the command's name (`plinth --json` names none).
    const words = [command, sub].filter((w) => w && w !== "--json");
    usage(words.length > 0 ? `unknown command ${words.join(" ")}` : undefined);
  }
} catch (error) {
  localBug(error);
}
