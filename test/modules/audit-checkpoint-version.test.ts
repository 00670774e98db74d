// Every checkpoint the AuditLog signs now is version 2, over its signed_at too, at any seq; rows
// stored before versions (version 1, over `<tenant>:<seq>:<hash>`) still verify as they did.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { loadSigningKeys } from "../../src/kernel/auth/signing-keys";
import { ed25519Signer } from "../../src/kernel/crypto";
import { auditLog } from "../../src/modules/audit/contract";
import { auditLogClock } from "../object-clocks";
import { auditInputs } from "./audit-inputs";

const input = auditInputs("cp-version-ev");

const stubOf = (tenant: string) => env.AUDIT_LOG.getByName(tenant) as unknown as DurableObjectStub<AuditLog>;

/** Runs `verify` with a change made to the stored checkpoints, then puts them back as they were. */
const verifyWith = (tenant: string, change: string, ...params: (string | number | null)[]) =>
  runInDurableObject(stubOf(tenant), async (instance: AuditLog, state) => {
    const saved = state.storage.sql.exec("select * from checkpoints").toArray();
    state.storage.sql.exec(change, ...params);
    const result = await instance.verify();
    state.storage.sql.exec("delete from checkpoints");
    for (const row of saved)
      state.storage.sql.exec(
        "insert into checkpoints (v, seq, hash, signed_at, kid, signature) values (?, ?, ?, ?, ?, ?)",
        row.v,
        row.seq,
        row.hash,
        row.signed_at,
        row.kid,
        row.signature,
      );
    return result;
  });

describe("AuditLog checkpoint versions", () => {
  afterEach(() => auditLogClock.release());

  it("signs a checkpoint at seq > 0 as version 2, so its signed_at cannot be edited, nor its version dropped", async () => {
    auditLogClock.set("2031-08-01T12:00:00.000Z");
    const tenant = `cp-v2-${crypto.randomUUID()}`;
    const log = auditLog(env, tenant);
    const appended = await log.append({ events: [input(tenant), input(tenant), input(tenant)], checkpointEvery: 3 });
    expect(appended.checkpoint).toMatchObject({ v: 2, seq: 3, signed_at: "2031-08-01T12:00:00.000Z" });
    await log.append({ events: [input(tenant)], checkpointEvery: 100 });
    expect(await log.exportCheckpoint({ tenant_id: tenant })).toMatchObject({ v: 2, seq: 4 });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 4, checkpoint: { v: 2, seq: 4 } });

    // Its time is signed: dated later in storage, the checkpoint no longer verifies.
    expect(
      await verifyWith(tenant, "update checkpoints set signed_at = ? where seq = 3", "2031-09-01T00:00:00.000Z"),
    ).toMatchObject({ ok: false, broken_seq: 3 });
    // Read as version 1 (its `v` cleared), its signature is no version 1 signature.
    expect(await verifyWith(tenant, "update checkpoints set v = null where seq = 3")).toMatchObject({
      ok: false,
      broken_seq: 3,
    });
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it("still verifies a version 1 row stored before versions, and refuses it presented as version 2", async () => {
    const tenant = `cp-v1-${crypto.randomUUID()}`;
    const log = auditLog(env, tenant);
    const { entries } = await log.append({ events: [input(tenant), input(tenant)], checkpointEvery: 100 });
    const head = entries.at(-1);
    // As the object signed before versions: `<tenant>:<seq>:<hash>`, stored without `v`.
    const signer = ed25519Signer(await loadSigningKeys(env.JWT_SIGNING_KEYS as string));
    const signature = await signer.sign(new TextEncoder().encode(`${tenant}:2:${head?.hash}`));
    await runInDurableObject(stubOf(tenant), (_instance: AuditLog, state) => {
      state.storage.sql.exec(
        "insert into checkpoints (seq, hash, signed_at, kid, signature) values (?, ?, ?, ?, ?)",
        2,
        head?.hash ?? "",
        "2026-01-02T00:00:00.000Z",
        signer.kid,
        signature,
      );
    });
    const v1 = { seq: 2, hash: head?.hash, signed_at: "2026-01-02T00:00:00.000Z", kid: signer.kid, signature };
    const verified = await log.verify();
    expect(verified).toMatchObject({ ok: true, entries: 2, checkpoint: v1 });
    // It reads as it was stored: no `v`. An export of the log ends with its head signed as version 2.
    expect(verified.checkpoint).not.toHaveProperty("v");
    expect(await log.exportCheckpoint({ tenant_id: tenant })).toMatchObject({ v: 2, seq: 2, hash: head?.hash });
    expect(await verifyWith(tenant, "update checkpoints set v = 2 where seq = 2")).toMatchObject({
      ok: false,
      broken_seq: 2,
    });

    // The next checkpoint signed after it is version 2, and both verify.
    await log.append({ events: [input(tenant)], checkpointEvery: 100 });
    expect(await log.checkpoint()).toMatchObject({ v: 2, seq: 3 });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3, checkpoint: { v: 2, seq: 3 } });
  });
});

describe("AuditLog export of a log that did not advance", () => {
  afterEach(() => auditLogClock.release());

  it("signs its head afresh as of the export, so --max-age can accept an idle log exported again", async () => {
    auditLogClock.set("2031-10-01T12:00:00.000Z");
    const tenant = `cp-idle-${crypto.randomUUID()}`;
    const log = auditLog(env, tenant);
    await log.append({ events: [input(tenant), input(tenant)], checkpointEvery: 2 });
    const stored = await log.checkpoint();
    expect(stored).toMatchObject({ v: 2, seq: 2, signed_at: "2031-10-01T12:00:00.000Z" });
    // A day later, nothing appended: the export says where the log is as of now, not as of yesterday.
    auditLogClock.advance(86_400_000);
    expect(await log.exportCheckpoint({ tenant_id: tenant })).toMatchObject({
      v: 2,
      seq: 2,
      signed_at: "2031-10-02T12:00:00.000Z",
    });
    // Not stored: the object's checkpoints stay as they were, and verify.
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2, checkpoint: stored });
  });
});
