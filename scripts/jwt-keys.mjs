#!/usr/bin/env node
// Makes values for the JWT_SIGNING_KEYS secret: a JSON array of private Ed25519
// JWKs, newest first. The Worker signs with the first and verifies with all.
//
//   node scripts/jwt-keys.mjs                      a new set with one key
//   node scripts/jwt-keys.mjs --rotate "$OLD"      a new key prepended to $OLD (at most 3 kept)
//   node scripts/jwt-keys.mjs --rotate - < old.json
//
// Rotation: put the rotated value in the secret, and rotate again no sooner than
// 15 minutes later (the access-token lifetime), or tokens signed by a dropped key
// stop verifying before they expire.
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
  let keys;
  try {
    keys = JSON.parse(existing);
  } catch {
    // JSON.parse's message quotes the input, which is key material.
    throw new Error("the existing value is not valid JSON");
  }
  checkKeySet(keys);
  let kid = newKid();
  while (keys.some((k) => k.kid === kid)) kid = newKid();
  const next = [newSigningJwk(kid), ...keys.map(({ kty, crv, x, d, kid }) => ({ kty, crv, x, d, kid }))];
  return {
    value: JSON.stringify(next.slice(0, MAX_ROTATED_KEYS)),
    added: kid,
    dropped: next.slice(MAX_ROTATED_KEYS).map((k) => k.kid),
  };
}

const USAGE = `usage: node scripts/jwt-keys.mjs                  print a new JWT_SIGNING_KEYS value
       node scripts/jwt-keys.mjs --rotate '<json>'  prepend a new key to an existing value (keeps ${MAX_ROTATED_KEYS})
       node scripts/jwt-keys.mjs --rotate -         same, reading the existing value from stdin`;

function main(args) {
  if (args.length === 0) {
    process.stdout.write(`${newSigningKeySet()}\n`);
    return 0;
  }
  if (args[0] === "--rotate" && args.length === 2) {
    const existing = args[1] === "-" ? readFileSync(0, "utf8").trim() : args[1];
    try {
      const { value, added, dropped } = rotateSigningKeySet(existing);
      process.stdout.write(`${value}\n`);
      // stderr, so `$(node scripts/jwt-keys.mjs --rotate ...)` captures only the value.
      process.stderr.write(`jwt-keys: added ${added}${dropped.length ? `, dropped ${dropped.join(", ")}` : ""}\n`);
      return 0;
    } catch (error) {
      process.stderr.write(`jwt-keys: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
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
  process.exitCode = main(process.argv.slice(2));
}
