// The export of a tenant whose audit log holds no entry: it must still close with a signed
// checkpoint (seq 0, the genesis hash), so that "the log is empty" is something the export
// proves, and a file cut to nothing (no checkpoint line) stays unverifiable. The checkpoint is
// signed afresh at each export over its signed_at too, so it says when the log was empty.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as ed from "@noble/ed25519";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { importJwks, parseExport, verifyExport } from "../../scripts/lib/audit-chain.mjs";
import { audit } from "../../src/modules/audit";
import { type AuditCheckpoint, GENESIS_HASH } from "../../src/modules/audit/chain";
import { auditLog } from "../../src/modules/audit/contract";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, newTenant } from "../identity/helpers";
import { auditLogClock } from "../object-clocks";
import { auditInputs } from "./audit-inputs";

/**
 * The platform in-process, its AUDIT_LOG objects named apart from the Worker's: a tenant's
 * `tenants.tenant.created` reaches the Worker's object through the queue a moment after its
 * creation, so only an object of its own is certain to stay empty while the test exports it.
 */
function emptyLogPlatform(suffix: string) {
  const namespace = { getByName: (name: string) => env.AUDIT_LOG.getByName(`${name}#${suffix}`) };
  const { fetch } = testApp([system(), tenants(), identity(), audit()], { AUDIT_LOG: namespace });
  return { fetch, call: callerOf(fetch) };
}

const b64 = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));

describe("audit export of an empty log", () => {
  it("is one checkpoint line, seq 0 over the genesis hash, signed for the tenant with a key of the JWKS", async () => {
    const t = await newTenant("auditempty");
    const p = emptyLogPlatform(crypto.randomUUID());
    const res = await p.fetch("/api/v1/admin/audit/export", { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const text = await res.text();
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? "") as { checkpoint: AuditCheckpoint; tenant_id: string };
    expect(line.tenant_id).toBe(t.id);
    expect(line.checkpoint).toMatchObject({ seq: 0, hash: GENESIS_HASH });

    // Checked independently of the Worker's signer, with @noble/ed25519 against the served JWKS.
    const jwks = (await p.call("/.well-known/jwks.json")).body as { keys: { kid: string; x: string }[] };
    const jwk = jwks.keys.find((k) => k.kid === line.checkpoint.kid);
    expect(jwk).toBeDefined();
    const signature = b64(line.checkpoint.signature);
    expect(line.checkpoint.v).toBe(2);
    const signed = (tenant: string, at: string) =>
      new TextEncoder().encode(`plinth-audit-checkpoint/v2:${tenant}:0:${GENESIS_HASH}:${at}`);
    const at = line.checkpoint.signed_at;
    expect(await ed.verifyAsync(signature, signed(t.id, at), b64(jwk?.x ?? ""))).toBe(true);
    // Bound to the tenant: it says nothing of another tenant's log.
    expect(await ed.verifyAsync(signature, signed("another-tenant", at), b64(jwk?.x ?? ""))).toBe(false);
    // And to its time: "empty as of" an earlier date is not what was signed.
    const earlier = "2020-01-01T00:00:00.000Z";
    expect(await ed.verifyAsync(signature, signed(t.id, earlier), b64(jwk?.x ?? ""))).toBe(false);

    // The CLI's verifier accepts the body as exported, against the same JWKS.
    expect(await verifyExport(parseExport(text), await importJwks(jwks))).toMatchObject({
      ok: true,
      entries: 0,
      last_seq: 0,
      signature: "valid",
    });

    // An edited date breaks it: the signature covers signed_at, so an old "empty" cannot pass for a new one.
    const edited = text.replace(at, earlier);
    expect(edited).not.toBe(text);
    expect(await verifyExport(parseExport(edited), await importJwks(jwks))).toMatchObject({
      ok: false,
      problem: "signature_invalid",
    });

    // Nothing stored: the object's own verification has no checkpoint to check for an empty log.
    const verified = await p.call("/api/v1/admin/audit/verify", { token: t.adminKey });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({
      ok: true,
      entries: 0,
      from_seq: 1,
      last_seq: 0,
      last_hash: GENESIS_HASH,
      checkpoint: null,
      next_from_seq: null,
    });
  });
});

const input = auditInputs("empty-export-ev");

describe("AuditLog.exportCheckpoint", () => {
  afterEach(() => auditLogClock.release());

  it("signs an empty log's head afresh at each export, stores none of them, and the chain's latest seq once it has entries", async () => {
    auditLogClock.set("2031-06-01T12:00:00.000Z");
    const tenant = `empty-cp-${crypto.randomUUID()}`;
    const log = auditLog(env, tenant);
    // Nothing advanced: the hourly job's checkpoint leaves an empty log alone.
    expect(await log.checkpoint()).toBeNull();
    const first = await log.exportCheckpoint({ tenant_id: tenant });
    expect(first).toMatchObject({ seq: 0, hash: GENESIS_HASH, signed_at: "2031-06-01T12:00:00.000Z" });
    // An hour later the log is still empty, and the export says so as of then, not as of the first one.
    auditLogClock.advance(3_600_000);
    const second = await log.exportCheckpoint({ tenant_id: tenant });
    expect(second).toMatchObject({ seq: 0, hash: GENESIS_HASH, signed_at: "2031-06-01T13:00:00.000Z" });
    expect(second?.signature).not.toBe(first?.signature);
    const keys = await importJwks((await emptyLogPlatform("jwks").call("/.well-known/jwks.json")).body);
    const exported = (cp: AuditCheckpoint | null) =>
      parseExport(`${JSON.stringify({ checkpoint: cp, tenant_id: tenant })}\n`);
    for (const cp of [first, second])
      expect(await verifyExport(exported(cp), keys)).toMatchObject({ ok: true, signature: "valid" });
    // Each signature covers its own time: the first's with the second's date is broken.
    const swapped = { ...first, signed_at: second?.signed_at } as AuditCheckpoint;
    expect(await verifyExport(exported(swapped), keys)).toMatchObject({ ok: false, problem: "signature_invalid" });
    expect(await log.verify()).toEqual({
      ok: true,
      entries: 0,
      from_seq: 1,
      next_from_seq: null,
      last_seq: 0,
      last_hash: GENESIS_HASH,
      checkpoint: null,
    });

    // Entries after it: the export signs the chain's end, and that one is stored.
    await log.append({ events: [input(tenant), input(tenant), input(tenant)] });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3, checkpoint: null });
    const third = await log.exportCheckpoint({ tenant_id: tenant });
    expect(third).toMatchObject({ seq: 3, signed_at: "2031-06-01T13:00:00.000Z" });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3, checkpoint: third });

    // A stored checkpoint altered in storage is caught at its seq.
    const stub = env.AUDIT_LOG.getByName(tenant) as unknown as DurableObjectStub<AuditLog>;
    const verdict = await runInDurableObject(stub, async (instance: AuditLog, state) => {
      state.storage.sql.exec("update checkpoints set hash = ? where seq = 3", GENESIS_HASH);
      const result = await instance.verify();
      state.storage.sql.exec("update checkpoints set hash = ? where seq = 3", third?.hash ?? "");
      return result;
    });
    expect(verdict).toMatchObject({ ok: false, broken_seq: 3 });
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it("dates an empty log's checkpoint when it read the log empty, not after an append that came in meanwhile", async () => {
    auditLogClock.set("2031-07-01T12:00:00.000Z");
    const tenant = `empty-cp-race-${crypto.randomUUID()}`;
    const stub = env.AUDIT_LOG.getByName(tenant) as unknown as DurableObjectStub<AuditLog>;
    const exported = await runInDurableObject(stub, async (instance: AuditLog) => {
      // The export reads the head, then awaits the signing key: an append may run in that gap.
      const pending = instance.exportCheckpoint({ tenant_id: tenant });
      auditLogClock.advance(3_600_000);
      await instance.append({ events: [input(tenant)], checkpointEvery: 100 });
      return pending;
    });
    // Seq 0 as read; "empty as of" the read, when it was, not an hour later when it held an entry.
    expect(exported).toMatchObject({ seq: 0, signed_at: "2031-07-01T12:00:00.000Z" });
  });

  it("refuses another tenant's id, and signs nothing for an erased log", async () => {
    const tenant = `empty-cp-own-${crypto.randomUUID()}`;
    const log = auditLog(env, tenant);
    await log.exportCheckpoint({ tenant_id: tenant });
    // The empty log's export recorded whose log it is: another id is refused, as after an append.
    await expect(log.exportCheckpoint({ tenant_id: "someone-else" })).rejects.toThrow(/another tenant/);
    const used = `empty-cp-used-${crypto.randomUUID()}`;
    await auditLog(env, used).append({ events: [input(used)] });
    await expect(auditLog(env, used).exportCheckpoint({ tenant_id: "someone-else" })).rejects.toThrow(/another tenant/);

    const erased = `empty-cp-erased-${crypto.randomUUID()}`;
    const gone = auditLog(env, erased);
    await gone.append({ events: [input(erased)] });
    await gone.eraseAll({ tenant_id: erased });
    expect(await gone.exportCheckpoint({ tenant_id: erased })).toBeNull();
    expect(await gone.verify()).toMatchObject({ entries: 0, checkpoint: null });
  });
});
