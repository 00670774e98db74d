// Offline verification of an audit export (NDJSON, oldest first, optionally
// ending with a `{ "checkpoint": …, "tenant_id": … }` line). Mirrors
// src/modules/audit/chain.ts and the AuditLog DO's verify() for untrusted input,
// with the Worker's own canonicaliser (plain JS, so plain Node runs it).
import { createHash, webcrypto } from "node:crypto";
import { canonicalize } from "../../src/modules/audit/jcs.mjs";

export const GENESIS_HASH = "0".repeat(64);

/** SHA-256 (lowercase hex) of the JCS form of the entry without its `hash`. */
export function entryHash(entry) {
  const { hash: _hash, ...rest } = entry;
  return createHash("sha256").update(canonicalize(rest), "utf8").digest("hex");
}

/**
 * Parses an export. Throws a SyntaxError naming the line for a line that is
 * not JSON.
 * @param {string} text
 * `checkpoints` counts the checkpoint lines: an export has one, or none when empty.
 * @returns {{ entries: object[], checkpoint: object | null, tenantId: string | null, checkpoints: number }}
 */
export function parseExport(text) {
  const entries = [];
  let checkpoint = null;
  let tenantId = null;
  let checkpoints = 0;
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value;
    try {
      value = JSON.parse(line);
    } catch {
      throw new SyntaxError(`line ${i + 1} is not JSON`);
    }
    if (value && typeof value === "object" && "checkpoint" in value) {
      checkpoints++;
      checkpoint = value.checkpoint;
      tenantId = typeof value.tenant_id === "string" ? value.tenant_id : null;
    } else {
      entries.push(value);
    }
  });
  return { entries, checkpoint, tenantId, checkpoints };
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** As src/modules/audit/chain.ts: what a version 2 checkpoint's message starts with. */
export const CHECKPOINT_V2_PREFIX = "plinth-audit-checkpoint/v2:";

/**
 * As src/modules/audit/chain.ts checkpointMessage: version 2 (`v: 2`, every checkpoint signed now)
 * signs the tenant, seq, hash and signed_at behind its prefix; version 1 (no `v`, stored before)
 * only `<tenant_id>:<seq>:<hash>`. Neither version's message can be the other's.
 */
export const checkpointMessage = (tenantId, cp) =>
  cp.v === 2
    ? `${CHECKPOINT_V2_PREFIX}${tenantId}:${cp.seq}:${cp.hash}:${cp.signed_at}`
    : `${tenantId}:${cp.seq}:${cp.hash}`;

/** Whether the checkpoint's signature covers its signed_at: version 2 only. */
export const signsItsTime = (cp) => isObject(cp) && cp.v === 2;

/**
 * A checkpoint as the export route writes it: the seq and hash of an entry (seq 0 and the
 * genesis hash for an empty log's), and the kid and signature that vouch for them; version 2
 * (`v: 2`) with the signed_at its signature covers, or version 1 (no `v`, at seq > 0: a
 * checkpoint stored before versions; an empty log's has always signed its time). A checkpoint
 * line holding anything else (`null`, `{}`, another `v`) covers nothing, and a hollow one matched
 * the chain at no seq, so entries before it passed.
 */
const isCheckpoint = (v) =>
  isObject(v) &&
  Number.isInteger(v.seq) &&
  v.seq >= 0 &&
  typeof v.hash === "string" &&
  typeof v.kid === "string" &&
  typeof v.signature === "string" &&
  (v.v === 2 ? typeof v.signed_at === "string" : v.v === undefined && v.seq > 0);

/**
 * Recomputes the chain from seq 1. Returns the first broken seq, or null.
 * A checkpoint must match the chain at its seq (so a truncated export is
 * caught); with `keys` (kid -> public CryptoKey) its signature is checked too.
 * The export route closes every export with a checkpoint of its last line (an
 * empty log's: seq 0, the genesis hash, so "the log is empty" is signed too), so
 * entries without one, or past it, are not what was signed:
 * `problem` says which; so do a second checkpoint line (an export has one) and a checkpoint
 * past the file's last entry (`missing_entries`: `broken_seq` is the first one missing, up
 * to `covered_seq`), a checkpoint line without a checkpoint in it (`malformed_checkpoint`:
 * `null`, or no seq, hash, kid or signature), and a file with no entry and no checkpoint
 * (`empty_export`: a file cut to nothing, or an empty log's export from before its
 * checkpoint at seq 0 existed; it proves nothing, so it is not `ok`). With `keys`, a
 * checkpoint whose signature fails is `signature_invalid`, or `unknown_kid` when no key
 * has its kid (`broken_seq` is the checkpoint's seq): the entries themselves recompute.
 * @returns {Promise<{ ok: boolean, entries: number, last_seq: number, last_hash: string, broken_seq?: number, covered_seq?: number, problem?: "empty_export" | "no_checkpoint" | "malformed_checkpoint" | "after_checkpoint" | "extra_checkpoint" | "missing_entries" | "signature_invalid" | "unknown_kid", signature: "valid" | "invalid" | "unchecked" | "none" }>}
 */
export async function verifyExport({ entries, checkpoint, tenantId, checkpoints = checkpoint ? 1 : 0 }, keys = null) {
  let prev = GENESIS_HASH;
  let broken = null;
  // The chain's head before its first entry: what an empty log's checkpoint signs.
  const hashAt = new Map([[0, GENESIS_HASH]]);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const seq = i + 1;
    if (!isObject(e) || e.seq !== seq || e.prev_hash !== prev || typeof e.hash !== "string") {
      broken = seq;
      break;
    }
    let computed;
    try {
      computed = entryHash(e);
    } catch {
      broken = seq;
      break;
    }
    if (computed !== e.hash) {
      broken = seq;
      break;
    }
    hashAt.set(seq, e.hash);
    prev = e.hash;
  }
  let signature = checkpoint ? "unchecked" : "none";
  let problem = null;
  let covered = null;
  if (broken === null && checkpoints > 1) {
    problem = "extra_checkpoint";
  } else if (broken === null && checkpoints === 1 && !isCheckpoint(checkpoint)) {
    problem = "malformed_checkpoint";
  } else if (broken === null && !checkpoint && entries.length > 0) {
    problem = "no_checkpoint";
  } else if (broken === null && !checkpoint) {
    problem = "empty_export";
  } else if (
    broken === null &&
    isObject(checkpoint) &&
    Number.isInteger(checkpoint.seq) &&
    checkpoint.seq > entries.length
  ) {
    // Cut short: the entries the checkpoint covers past the file's end are gone.
    problem = "missing_entries";
    broken = entries.length + 1;
    covered = checkpoint.seq;
  } else if (broken === null && isObject(checkpoint) && hashAt.has(checkpoint.seq) && checkpoint.seq < entries.length) {
    // Lines after the checkpoint are vouched for by nothing (an export never has them).
    problem = "after_checkpoint";
    broken = checkpoint.seq + 1;
  } else if (broken === null && checkpoint) {
    if (!isObject(checkpoint) || hashAt.get(checkpoint.seq) !== checkpoint.hash) {
      broken = isObject(checkpoint) && Number.isInteger(checkpoint.seq) ? checkpoint.seq : entries.length + 1;
    } else if (keys) {
      const key = keys.get(checkpoint.kid);
      let valid = false;
      if (key && tenantId !== null) {
        // Version 2 covers signed_at too, so its "as of" cannot be moved; version 1 does not.
        const message = new TextEncoder().encode(checkpointMessage(tenantId, checkpoint));
        try {
          valid = await webcrypto.subtle.verify(
            { name: "Ed25519" },
            key,
            Buffer.from(checkpoint.signature, "base64url"),
            message,
          );
        } catch {
          valid = false;
        }
      }
      signature = valid ? "valid" : "invalid";
      if (!valid) {
        broken = checkpoint.seq;
        // The chain recomputed: say it is the signature, not entry `seq`, that fails.
        problem = key ? "signature_invalid" : "unknown_kid";
      }
    }
  }
  const ok = broken === null && problem === null;
  const last = entries.length > 0 && ok ? entries[entries.length - 1] : null;
  return {
    ok,
    entries: entries.length,
    last_seq: last ? last.seq : 0,
    last_hash: last ? last.hash : GENESIS_HASH,
    signature,
    ...(broken === null ? {} : { broken_seq: broken }),
    ...(problem === null ? {} : { problem }),
    ...(covered === null ? {} : { covered_seq: covered }),
  };
}

/** Imports the Ed25519 keys of a JWKS document: kid -> CryptoKey. */
export async function importJwks(jwks) {
  // A page that is not a key set (the wrong URL, `/healthz`) is a mistake to name, not an empty
  // set under which every checkpoint would read "unverified".
  if (!Array.isArray(jwks?.keys)) throw new Error('not a JWKS: no "keys" array');
  const keys = new Map();
  for (const jwk of jwks.keys) {
    if (jwk?.kty !== "OKP" || jwk?.crv !== "Ed25519" || typeof jwk.kid !== "string") continue;
    const { kty, crv, x } = jwk;
    keys.set(jwk.kid, await webcrypto.subtle.importKey("jwk", { kty, crv, x }, { name: "Ed25519" }, false, ["verify"]));
  }
  return keys;
}
