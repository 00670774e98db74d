// Audit chains and their tamperings, shared by the verifier tests in workerd
// (test/unit/audit-verify.test.ts) and in Node (test/node/audit-cli.test.ts).
import { type AuditEntry, entryHash, GENESIS_HASH } from "../src/modules/audit/chain";

/** Every field of an entry, nested ones as `a.b`. */
export const FIELDS = [
  "seq",
  "at",
  "actor.kind",
  "actor.id",
  "action",
  "target",
  "request_id",
  "ip_hash",
  "prev_hash",
  "hash",
];

/** A valid chain of `n` entries with varied (and sometimes null) fields. */
export function buildChain(n: number): AuditEntry[] {
  const actions = ["identity.user.registered", "identity.user.logged_in", "blog.post.created", "authz.denied"];
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const unsigned = {
      seq,
      at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
      actor: { kind: seq % 5 === 0 ? "anonymous" : "user", id: seq % 5 === 0 ? null : `user-${seq % 7}` },
      action: actions[seq % actions.length] ?? "x.y.z",
      target: seq % 11 === 0 ? null : `user/${seq % 13}`,
      request_id: seq % 4 === 0 ? null : `req-${seq}`,
      ip_hash: seq % 2 === 0 ? null : `ip-${seq % 3}`,
      prev_hash: prev,
    };
    const entry = { ...unsigned, hash: entryHash(unsigned) };
    out.push(entry);
    prev = entry.hash;
  }
  return out;
}

/** A copy of `entry` with the field at `path` changed to a different value. */
export function mutateField(entry: AuditEntry, path: string): AuditEntry {
  const copy = structuredClone(entry) as unknown as Record<string, unknown>;
  const [head, tail] = path.split(".") as [string, string | undefined];
  const holder = (tail ? copy[head] : copy) as Record<string, unknown>;
  const key = tail ?? head;
  const value = holder[key];
  holder[key] = typeof value === "number" ? value + 1 : value === null ? "x" : `${String(value)}x`;
  return copy as unknown as AuditEntry;
}

/**
 * Every single-field change of every entry, every deletion of one entry and
 * every swap of two neighbours: `n * FIELDS.length + n + (n - 1)` tampered chains.
 */
export function mutants(entries: readonly AuditEntry[]): { name: string; entries: AuditEntry[] }[] {
  const out: { name: string; entries: AuditEntry[] }[] = [];
  entries.forEach((entry, i) => {
    for (const field of FIELDS) {
      out.push({
        name: `entry ${i + 1} ${field}`,
        entries: entries.map((e, j) => (j === i ? mutateField(e, field) : e)),
      });
    }
    out.push({ name: `delete ${i + 1}`, entries: entries.filter((_, j) => j !== i) });
    const next = entries[i + 1];
    if (next) {
      const swapped = [...entries];
      [swapped[i], swapped[i + 1]] = [next, entry];
      out.push({ name: `swap ${i + 1}/${i + 2}`, entries: swapped });
    }
  });
  return out;
}
