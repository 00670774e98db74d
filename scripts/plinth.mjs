#!/usr/bin/env node
// The `plinth` CLI.
//   plinth audit verify <file.ndjson> [--jwks <url-or-file>]
// Verifies an audit export offline: recomputes the hash chain (RFC 8785 JCS +
// SHA-256), checks the closing checkpoint against the chain and, with --jwks,
// its Ed25519 signature. Exit 0 intact, 1 broken (prints the first broken
// seq), 2 usage or input errors.
import { readFileSync } from "node:fs";
import { importJwks, parseExport, verifyExport } from "./lib/audit-chain.mjs";

const USAGE = "usage: plinth audit verify <file.ndjson> [--jwks <url-or-file>]";

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

const [command, sub, ...rest] = process.argv.slice(2);
if (command === "audit" && sub === "verify") {
  await auditVerify(rest);
} else {
  usage(command ? `unknown command ${[command, sub].filter(Boolean).join(" ")}` : undefined);
}
