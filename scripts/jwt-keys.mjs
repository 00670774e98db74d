#!/usr/bin/env node
// Makes values for the JWT_SIGNING_KEYS secret: a JSON array of private Ed25519
// JWKs, newest first. The Worker signs with the first and verifies with all.
//
//   node scripts/jwt-keys.mjs                      a new set with one key
//   node scripts/jwt-keys.mjs --rotate "$OLD"      a new key prepended to $OLD (at most 3 kept)
//   node scripts/jwt-keys.mjs --rotate - < old.json
//   node scripts/jwt-keys.mjs --stage - < old.json          a new key appended: published, not signing
//   node scripts/jwt-keys.mjs --promote <kid> - < cur.json  that key moved first: it signs
//   node scripts/jwt-keys.mjs --drop <kid> - < cur.json     a (leaked) key removed: its tokens stop verifying
//
// Rotation: put the rotated value in the secret, and rotate again no sooner than
// 15 minutes later (the access-token lifetime), or tokens signed by a dropped key
// stop verifying before they expire. --rotate signs with the new key at once, before
// verifiers holding a cached JWKS (it says max-age=300) know it; --stage, then --promote
// once their cache has expired, lets them see it first (docs/operations.md).
//
// Plain Node (node:crypto), not the TypeScript module, so it runs without a build.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Keys kept by a rotation: the new one and the two before it. */
export const MAX_ROTATED_KEYS = 3;

const KID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_BYTES_B64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** A kid like `k-20261122-ab12`: the UTC date, and 16 random bits. */
export function newKid(now = new Date()) {
  return `k-${now.toISOString().slice(0, 10).replace(/-/g, "")}-${randomBytes(2).toString("hex")}`;
}

/**
 * A new private signing JWK `{ kty, crv, x, d, kid }`.
 * @param {string} [kid]
 */
export function newSigningJwk(kid = newKid()) {
  if (!KID.test(kid)) throw new Error("kid must be 1-64 characters of A-Z a-z 0-9 . _ -");
  const { privateKey } = generateKeyPairSync("ed25519");
  const { x, d } = privateKey.export({ format: "jwk" });
  return { kty: "OKP", crv: "Ed25519", x, d, kid };
}

/**
 * A fresh value for JWT_SIGNING_KEYS (a JSON array with one new key).
 * @returns {string}
 */
export function newSigningKeySet() {
  return JSON.stringify([newSigningJwk()]);
}

/** Checks a parsed secret the way the Worker will; messages never quote key material. */
function checkKeySet(keys) {
  if (!Array.isArray(keys) || keys.length === 0) throw new Error("the existing value must be a non-empty JSON array");
  const kids = new Set();
  keys.forEach((k, i) => {
    const ok =
      k !== null &&
      typeof k === "object" &&
      k.kty === "OKP" &&
      k.crv === "Ed25519" &&
      typeof k.x === "string" &&
      KEY_BYTES_B64URL.test(k.x) &&
      typeof k.d === "string" &&
      KEY_BYTES_B64URL.test(k.d) &&
      typeof k.kid === "string" &&
      KID.test(k.kid);
    if (!ok) throw new Error(`key [${i}] is not a private Ed25519 JWK { kty: "OKP", crv: "Ed25519", x, d, kid }`);
    if (kids.has(k.kid)) throw new Error(`key [${i}] repeats kid "${k.kid}"`);
    kids.add(k.kid);
  });
}

/**
 * Prepends a new key to an existing JWT_SIGNING_KEYS value, keeping at most
 * {@link MAX_ROTATED_KEYS}. Returns the new value and the kids dropped.
 * @param {string} existing
 * @returns {{ value: string, added: string, dropped: string[] }}
 */
export function rotateSigningKeySet(existing) {
  const keys = parseKeySet(existing);
  let kid = newKid();
  while (keys.some((k) => k.kid === kid)) kid = newKid();
  const next = [newSigningJwk(kid), ...keys];
  return {
    value: JSON.stringify(next.slice(0, MAX_ROTATED_KEYS)),
    added: kid,
    dropped: next.slice(MAX_ROTATED_KEYS).map((k) => k.kid),
  };
}

/** Parses an existing value and checks it the way the Worker will (messages never quote key material). */
function parseKeySet(existing) {
  let keys;
  try {
    keys = JSON.parse(existing);
  } catch {
    // JSON.parse's message quotes the input, which is key material.
    throw new Error("the existing value is not valid JSON");
  }
  checkKeySet(keys);
  return keys.map(({ kty, crv, x, d, kid }) => ({ kty, crv, x, d, kid }));
}

/**
 * Appends a new key to an existing JWT_SIGNING_KEYS value: published in the JWKS and
 * verifying, but not signing (the first key signs), so verifiers can fetch it before
 * any token needs it. Keeps at most {@link MAX_ROTATED_KEYS}, dropping the oldest.
 * @param {string} existing
 * @returns {{ value: string, added: string, dropped: string[] }}
 */
export function stageSigningKey(existing) {
  const keys = parseKeySet(existing);
  let kid = newKid();
  while (keys.some((k) => k.kid === kid)) kid = newKid();
  const kept = keys.slice(0, MAX_ROTATED_KEYS - 1);
  return {
    value: JSON.stringify([...kept, newSigningJwk(kid)]),
    added: kid,
    dropped: keys.slice(MAX_ROTATED_KEYS - 1).map((k) => k.kid),
  };
}

/**
 * Moves key `kid` first, so it signs; the others keep verifying.
 * @param {string} existing
 * @param {string} kid
 * @returns {{ value: string }}
 */
export function promoteSigningKey(existing, kid) {
  const keys = parseKeySet(existing);
  const key = keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`no key "${kid}" in the existing value`);
  return { value: JSON.stringify([key, ...keys.filter((k) => k !== key)]) };
}

/**
 * Removes key `kid` (a leaked one): tokens it signed stop verifying at once. The set
 * must keep a key; a dropped first key hands signing to the next.
 * @param {string} existing
 * @param {string} kid
 * @returns {{ value: string, signing: string }}
 */
export function dropSigningKey(existing, kid) {
  const keys = parseKeySet(existing);
  const rest = keys.filter((k) => k.kid !== kid);
  if (rest.length === keys.length) throw new Error(`no key "${kid}" in the existing value`);
  const [signing] = rest;
  if (!signing) throw new Error("it is the only key: add one first (--rotate), then drop it");
  return { value: JSON.stringify(rest), signing: signing.kid };
}

/** Runs one of the commands that read an existing value, writing the value to stdout and a note to stderr. */
function edit(existingArg, run) {
  let existing = existingArg;
  if (existingArg === "-") {
    try {
      existing = readFileSync(0, "utf8").trim();
    } catch (error) {
      // A closed or unreadable stdin (a directory, a cron job's): one line, as a bad value's.
      process.stderr.write(`jwt-keys: cannot read the existing value from stdin: ${error.code ?? error.message}\n`);
      return 1;
    }
  }
  try {
    const { value, note } = run(existing);
    process.stdout.write(`${value}\n`);
    // stderr, so `$(node scripts/jwt-keys.mjs ...)` captures only the value.
    process.stderr.write(`jwt-keys: ${note}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`jwt-keys: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const dropNote = (dropped) => (dropped.length ? `, dropped ${dropped.join(", ")}` : "");

const USAGE = `usage: node scripts/jwt-keys.mjs                  print a new JWT_SIGNING_KEYS value
       node scripts/jwt-keys.mjs --rotate '<json>'  prepend a new key to an existing value (keeps ${MAX_ROTATED_KEYS})
       node scripts/jwt-keys.mjs --rotate -         same, reading the existing value from stdin
       node scripts/jwt-keys.mjs --stage <json|->          append a new key: published in the JWKS, not signing yet
       node scripts/jwt-keys.mjs --promote <kid> <json|->  move that key first: it signs from the next deploy
       node scripts/jwt-keys.mjs --drop <kid> <json|->     remove a key (a leaked one): its tokens stop verifying`;

function main(args) {
  if (args.length === 0) {
    process.stdout.write(`${newSigningKeySet()}\n`);
    return 0;
  }
  if (args[0] === "--rotate" && args.length === 2) {
    return edit(args[1], (existing) => {
      const { value, added, dropped } = rotateSigningKeySet(existing);
      return { value, note: `added ${added}${dropNote(dropped)}` };
    });
  }
  if (args[0] === "--stage" && args.length === 2) {
    return edit(args[1], (existing) => {
      const { value, added, dropped } = stageSigningKey(existing);
      return { value, note: `staged ${added} (published, not signing)${dropNote(dropped)}; promote it in 5 minutes` };
    });
  }
  if (args[0] === "--promote" && args.length === 3) {
    return edit(args[2], (existing) => ({ ...promoteSigningKey(existing, args[1]), note: `${args[1]} signs` }));
  }
  if (args[0] === "--drop" && args.length === 3) {
    return edit(args[2], (existing) => {
      const { value, signing } = dropSigningKey(existing, args[1]);
      return { value, note: `dropped ${args[1]}; ${signing} signs` };
    });
  }
  process.stderr.write(`${USAGE}\n`);
  return args[0] === "--help" || args[0] === "-h" ? 0 : 2;
}

// Run as a CLI only when this file is the entry point, not when imported.
function isEntryPoint() {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (isEntryPoint()) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    // A bug: exit 5 and one line, as plinth's (scripts/lib/cli-stderr.mjs); the stack only with PLINTH_DEBUG=1.
    const detail = error instanceof Error ? error.message : String(error);
    const stack = process.env.PLINTH_DEBUG === "1" && error instanceof Error ? `\n${error.stack}` : "";
    process.stderr.write(`jwt-keys: internal error (a bug): ${detail}${stack}\n`);
    process.exitCode = 5;
  }
}
