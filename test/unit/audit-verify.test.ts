// The chain verifier the AuditLog DO's `/verify` runs, swept with every single-field
// change, deletion and neighbour swap of a 250-entry chain (the DO itself is
// exercised with a sample in test/modules/audit-log.test.ts).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadSigningKeys } from "../../src/kernel/auth/signing-keys";
import { base64UrlDecode, base64UrlEncode, ed25519Signer } from "../../src/kernel/crypto";
import { type AuditCheckpoint, type AuditEntry, CHECKPOINT_V2, checkpointMessage } from "../../src/modules/audit/chain";
import { verifyChain } from "../../src/modules/audit/verify";
import { buildChain, FIELDS, mutants } from "../audit-mutations";

const TENANT = "tenant-verify";

/** Checkpoints at `seqs`, version 1 (no `v`, as stored before versions) unless `v` is 2. */
async function signedAt(entries: readonly AuditEntry[], seqs: number[], v?: typeof CHECKPOINT_V2) {
  const signer = ed25519Signer(await loadSigningKeys(env.JWT_SIGNING_KEYS as string));
  const checkpoints: AuditCheckpoint[] = [];
  for (const seq of seqs) {
    const hash = entries[seq - 1]?.hash ?? "";
    const signed_at = "2026-01-02T00:00:00.000Z";
    const unsigned = { ...(v ? { v } : {}), seq, hash, signed_at };
    const message = new TextEncoder().encode(checkpointMessage(TENANT, unsigned));
    checkpoints.push({ ...unsigned, kid: signer.kid, signature: await signer.sign(message) });
  }
  return { signer, checkpoints };
}

const pages = (entries: readonly AuditEntry[]) => (from: number, limit: number) =>
  entries.slice(from - 1, from - 1 + limit);

describe("audit chain verification", () => {
  it("detects every tampering of a 250-entry chain checkpointed at its end (and at 100)", async () => {
    const entries = buildChain(250);
    const { signer, checkpoints } = await signedAt(entries, [100, 250]);
    const verify = (chain: readonly AuditEntry[]) =>
      verifyChain({ tenantId: TENANT, page: pages(chain), checkpoints, signer, pageSize: 64 });
    expect(await verify(entries)).toEqual({ broken: null, last: { seq: 250, hash: entries[249]?.hash } });

    const tampered = mutants(entries);
    const missed: string[] = [];
    for (const m of tampered) if ((await verify(m.entries)).broken === null) missed.push(m.name);
    console.log(
      `audit mutation sweep (DO verifier): tried ${tampered.length}, detected ${tampered.length - missed.length}`,
    );
    expect(tampered.length).toBe(250 * FIELDS.length + 250 + 249);
    expect(missed).toEqual([]);
  }, 90_000);

  it("names the first broken seq, and refuses a checkpoint whose signature or tenant is wrong", async () => {
    const entries = buildChain(30);
    const { signer, checkpoints } = await signedAt(entries, [30]);
    const edited = entries.map((e) => (e.seq === 12 ? { ...e, action: "nothing.to.see" } : e));
    expect((await verifyChain({ tenantId: TENANT, page: pages(edited), checkpoints, signer })).broken).toBe(12);
    // The same checkpoint presented for another tenant: its signature covers the tenant id.
    expect((await verifyChain({ tenantId: "someone-else", page: pages(entries), checkpoints, signer })).broken).toBe(
      30,
    );
    const flipped = (signature: string) => {
      const bytes = base64UrlDecode(signature);
      bytes[10] = (bytes[10] ?? 0) ^ 0x01;
      return base64UrlEncode(bytes);
    };
    const forged = checkpoints.map((c) => ({ ...c, signature: flipped(c.signature) }));
    expect((await verifyChain({ tenantId: TENANT, page: pages(entries), checkpoints: forged, signer })).broken).toBe(
      30,
    );
  });

  it("a version 2 checkpoint covers its signed_at, a version 1 one does not, and neither verifies as the other", async () => {
    const entries = buildChain(10);
    const verify = (checkpoints: AuditCheckpoint[], signer: Parameters<typeof verifyChain>[0]["signer"]) =>
      verifyChain({ tenantId: TENANT, page: pages(entries), checkpoints, signer });
    const v2 = await signedAt(entries, [4, 10], CHECKPOINT_V2);
    const v1 = await signedAt(entries, [4, 10]);
    expect((await verify(v2.checkpoints, v2.signer)).broken).toBeNull();
    expect((await verify(v1.checkpoints, v1.signer)).broken).toBeNull();
    const redated = (cps: AuditCheckpoint[]) =>
      cps.map((c) => (c.seq === 4 ? { ...c, signed_at: "2031-01-01T00:00:00.000Z" } : c));
    // Version 2 signs its time: redated, seq 4 is at fault. Version 1 never did (the limit it keeps).
    expect((await verify(redated(v2.checkpoints), v2.signer)).broken).toBe(4);
    expect((await verify(redated(v1.checkpoints), v1.signer)).broken).toBeNull();
    // Domain separation: a version 2 signature read as version 1, and the reverse, is no signature.
    const asV1 = v2.checkpoints.map(({ v: _v, ...c }) => c);
    expect((await verify(asV1, v2.signer)).broken).toBe(4);
    const asV2 = v1.checkpoints.map((c) => ({ ...c, v: CHECKPOINT_V2 }));
    expect((await verify(asV2, v1.signer)).broken).toBe(4);
  });
});
