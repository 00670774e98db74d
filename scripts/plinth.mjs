#!/usr/bin/env node
// The `plinth` CLI.
//   plinth audit verify <file.ndjson> [--jwks <url-or-file>]
//     Verifies an audit export offline: recomputes the hash chain (RFC 8785 JCS
//     + SHA-256), checks the closing checkpoint against the chain and, with
//     --jwks, its Ed25519 signature. Exit 0 intact, 1 broken (prints the first
//     broken seq), 2 usage or input errors.
//   plinth new module <name> [--aggregate <type>]
//     Writes a module with plinth's module anatomy, its tests and migration,
//     and registers it (docs/modules.md).
//   plinth modules list | validate
//     Prints the registry (name, version, dependencies, permissions, events,
//     routes), or every manifest problem with its module named (exit 1).
//   plinth events replay <module:subscription> [--tenant <id>] [--rebuild] [--limit <n>] [--url <url>]
//     Replays the writers' events to one subscription (a new projection's
//     backfill, a catch-up, with --rebuild every event again), page by page,
//     printing progress. Root key from PLATFORM_ROOT_KEY (or .dev.vars for a
//     local plinth); --url defaults to PLINTH_URL or http://127.0.0.1:8787.
import { readFileSync } from "node:fs";
import { importJwks, parseExport, verifyExport } from "./lib/audit-chain.mjs";
import { bin, root, run } from "./lib/env.mjs";
import { loadRegistry, routesOf } from "./lib/registry.mjs";
import { replay } from "./lib/replay.mjs";
import { defaultType, problemsOf, scaffold } from "./lib/scaffold.mjs";

const USAGE = [
  "usage: plinth audit verify <file.ndjson> [--jwks <url-or-file>]",
  "       plinth new module <name> [--aggregate <type>]",
  "       plinth modules list | validate",
  "       plinth events replay <module:subscription> [--tenant <id>] [--rebuild] [--limit <n>] [--url <url>]",
].join("\n");

function usage(message) {
  if (message) console.error(`plinth: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

async function loadJwks(source) {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`GET ${source} answered ${res.status}`);
    return res.json();
  }
  return JSON.parse(readFileSync(source, "utf8"));
}

async function auditVerify(args) {
  let file = null;
  let jwksSource = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--jwks") {
      jwksSource = args[++i] ?? usage("--jwks needs a URL or a file");
    } else if (arg.startsWith("--")) {
      usage(`unknown option ${arg}`);
    } else if (file === null) {
      file = arg;
    } else {
      usage("one file at a time");
    }
  }
  if (file === null) usage("name the export file");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    usage(`cannot read ${file}: ${error.code ?? error.message}`);
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
      keys = await importJwks(await loadJwks(jwksSource));
    } catch (error) {
      usage(`cannot load the JWKS: ${error.message}`);
    }
  }
  const result = await verifyExport(parsed, keys);
  if (result.ok) {
    const sig = { valid: "signature valid", unchecked: "signature not checked (no --jwks)", none: "no checkpoint" };
    console.log(`ok: ${result.entries} entries, last seq ${result.last_seq}, ${sig[result.signature]}`);
    process.exit(0);
  }
  console.log(`broken at seq ${result.broken_seq}`);
  process.exit(1);
}

async function newModule(args) {
  const [name, ...options] = args;
  if (!name || name.startsWith("--")) usage("name the module: plinth new module <name> [--aggregate <type>]");
  let type = defaultType(name);
  for (let i = 0; i < options.length; i++) {
    if (options[i] === "--aggregate") type = options[++i] ?? usage("--aggregate needs a type");
    else usage(`unknown option ${options[i]}`);
  }
  const problems = problemsOf(root, name, type);
  if (problems.length > 0) {
    for (const p of problems) console.error(`plinth: ${p}`);
    process.exit(2);
  }
  const written = scaffold(root, name, type);
  for (const file of written) console.log(`  wrote ${file}`);
  const steps = [
    [bin("drizzle-kit"), ["generate", "--name", name]],
    [process.execPath, ["scripts/generate.mjs"]],
    // Formatted and imports ordered as the repository's own lint wants them.
    [bin("biome"), ["check", "--write", ...written]],
  ];
  for (const [command, commandArgs] of steps) {
    const code = await run(command, commandArgs);
    if (code !== 0) {
      console.error(`plinth: ${command} ${commandArgs.join(" ")} failed (exit ${code})`);
      process.exit(1);
    }
  }
  console.log(`\nmodule ${name} (aggregate ${type}) is registered; its routes are under /api/v1/${name}/${type}s.`);
  console.log("next: npm test, then read docs/modules.md to make it yours.");
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
    console.log(`ok: ${ordered.length} modules, no problems`);
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
    line("bindings", Object.keys(m.bindings ?? {}));
    line("errors", Object.keys(m.errors ?? {}));
    for (const route of routesOf(m)) console.log(`  route        ${route}`);
  }
}

async function eventsReplay(args) {
  const options = { url: process.env.PLINTH_URL ?? "http://127.0.0.1:8787", rebuild: false, limit: 50 };
  let consumer = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--tenant") options.tenant = args[++i] ?? usage("--tenant needs an id");
    else if (arg === "--url") options.url = args[++i] ?? usage("--url needs a URL");
    else if (arg === "--limit") options.limit = Number(args[++i] ?? usage("--limit needs a number"));
    else if (arg === "--rebuild") options.rebuild = true;
    else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    else if (consumer === null) consumer = arg;
    else usage("one subscription at a time");
  }
  if (consumer === null) usage("name the subscription, e.g. blog:blog.posts (plinth modules list shows them)");
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 500) usage("--limit is 1 to 500");
  try {
    await replay({ ...options, consumer });
  } catch (error) {
    console.error(`plinth: ${error.message}`);
    process.exit(1);
  }
}

const [command, sub, ...rest] = process.argv.slice(2);
if (command === "audit" && sub === "verify") {
  await auditVerify(rest);
} else if (command === "new" && sub === "module") {
  await newModule(rest);
} else if (command === "modules" && (sub === "list" || sub === "validate")) {
  await modulesCommand(sub);
} else if (command === "events" && sub === "replay") {
  await eventsReplay(rest);
} else {
  usage(command ? `unknown command ${[command, sub].filter(Boolean).join(" ")}` : undefined);
}
