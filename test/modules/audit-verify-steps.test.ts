// Verifying a long audit log in bounded steps (`GET /api/v1/admin/audit/verify?from_seq=&limit=`):
// a whole chain in one Durable Object request costs ~60 µs an entry here, a minute for a million,
// past a request's 30 s of CPU and blocking every append of the tenant meanwhile. Each step
// recomputes entries from_seq.. against the stored hash of from_seq - 1, which the step before
// recomputed, and checks the checkpoints in its range; the steps compose into a whole-chain check.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import type { RpcReply } from "../../src/kernel/durable/rpc";
import { audit } from "../../src/modules/audit";
import { AUDIT_VERIFY_MAX, type AuditLogRpc } from "../../src/modules/audit/contract";
import { verifyWhole } from "../../src/modules/audit/verify-whole";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, newTenant } from "../identity/helpers";
import { auditInputs } from "./audit-inputs";

const input = auditInputs("verify-steps-ev");

/** A log of `n` entries under `name`, appended 500 at a time: a checkpoint at the end of each 500. */
async function filled(name: string, n: number) {
  const log = env.AUDIT_LOG.getByName(name);
  for (let done = 0; done < n; done += 500)
    await log.append({ events: Array.from({ length: Math.min(500, n - done) }, () => input(name)) });
  return log;
}

type Step = RpcReply<typeof AuditLogRpc, "verify">;

/** Every step from seq 1, `limit` entries each, until a step answers next_from_seq null. */
async function steps(log: Awaited<ReturnType<typeof filled>>, limit: number) {
  const out: Step[] = [];
  for (let from: number | null = 1; from !== null; ) {
    const step: Step = await log.verify({ fromSeq: from, limit });
    out.push(step);
    from = step.next_from_seq;
  }
  return out;
}

/** Runs `change` on the log's storage, then verifies `steps` of it, then puts the rows back. */
async function tampered<T>(
  log: Awaited<ReturnType<typeof filled>>,
  change: string,
  verify: (instance: AuditLog) => Promise<T>,
): Promise<T> {
  const stub = log as unknown as DurableObjectStub<AuditLog>;
  return runInDurableObject(stub, async (instance: AuditLog, state) => {
    const sql = state.storage.sql;
    const saved = {
      entries: sql.exec("select * from entries").toArray(),
      checkpoints: sql.exec("select * from checkpoints").toArray(),
    };
    sql.exec(change);
    try {
      return await verify(instance);
    } finally {
      for (const [table, rows] of Object.entries(saved)) {
        sql.exec(`delete from ${table}`);
        for (const row of rows) {
          const cols = Object.keys(row);
          sql.exec(
            `insert into ${table} (${cols.join(",")}) values (${cols.map(() => "?").join(",")})`,
            ...cols.map((c) => row[c] ?? null),
          );
        }
      }
    }
  });
}

describe("audit verify in steps", () => {
  it("steps over a 2,500-entry log give the whole verify's verdict, each starting where the last ended", async () => {
    const log = await filled(`steps-${crypto.randomUUID()}`, 2500);
    const whole = await log.verify();
    expect(whole).toMatchObject({ ok: true, entries: 2500, from_seq: 1, last_seq: 2500, next_from_seq: null });

    const walked = await steps(log, 1000);
    expect(walked.map((s) => [s.ok, s.from_seq, s.entries, s.last_seq, s.next_from_seq])).toEqual([
      [true, 1, 1000, 1000, 1001],
      [true, 1001, 1000, 2000, 2001],
      [true, 2001, 500, 2500, null],
    ]);
    expect(walked.at(-1)).toMatchObject({ last_hash: whole.last_hash, checkpoint: whole.checkpoint });
    expect(walked.every((s) => s.broken_seq === undefined)).toBe(true);
  });

  it("reports an entry tampered with in the middle of the second step at its seq, as the whole verify does", async () => {
    const log = await filled(`steps-tamper-${crypto.randomUUID()}`, 2500);
    const [first, second, whole] = await tampered(
      log,
      "update entries set action = action || 'x' where seq = 1500",
      async (instance) => [
        await instance.verify({ fromSeq: 1, limit: 1000 }),
        await instance.verify({ fromSeq: 1001, limit: 1000 }),
        await instance.verify(),
      ],
    );
    expect(first).toMatchObject({ ok: true, next_from_seq: 1001 });
    // The walk stops at the first fault, as the whole verify does: there is no next step.
    expect(second).toMatchObject({ ok: false, broken_seq: 1500, from_seq: 1001, next_from_seq: null });
    expect(whole).toMatchObject({ ok: false, broken_seq: 1500 });
  });

  it("checks the checkpoints inside its range, and only those", async () => {
    const log = await filled(`steps-cp-${crypto.randomUUID()}`, 2500);
    for (const change of [
      "update checkpoints set signature = (case when signature like 'A%' then 'B' else 'A' end) || substr(signature, 2) where seq = 1500",
      "update checkpoints set hash = substr(hash, 2) || '0' where seq = 1500",
    ]) {
      const [before, inside, after] = await tampered(log, change, async (instance) => [
        await instance.verify({ fromSeq: 1, limit: 1000 }),
        await instance.verify({ fromSeq: 1001, limit: 1000 }),
        await instance.verify({ fromSeq: 2001, limit: 1000 }),
      ]);
      expect(before, change).toMatchObject({ ok: true });
      expect(inside, change).toMatchObject({ ok: false, broken_seq: 1500 });
      expect(after, change).toMatchObject({ ok: true });
    }
    // A checkpoint past the chain's end (entries cut after it was signed) fails the step that
    // reaches the end, though it lies past that step's range (2331..2360, the end at 2350).
    const cut = await tampered(log, "delete from entries where seq > 2350", (instance) =>
      instance.verify({ fromSeq: 2331, limit: 30 }),
    );
    expect(cut).toMatchObject({ ok: false, entries: 20, broken_seq: 2500, next_from_seq: null });
  });

  it("steps walked to the end answer as one whole verification: ok for the whole chain, or the first fault", async () => {
    const log = await filled(`steps-whole-${crypto.randomUUID()}`, 2500);
    const inSteps = (instance: AuditLog) => verifyWhole((fromSeq) => instance.verify({ fromSeq, limit: 1000 }));
    const fine = await tampered(log, "select 1", inSteps);
    expect(fine).toMatchObject({ ok: true, entries: 2500, from_seq: 1, last_seq: 2500, next_from_seq: null });
    expect(fine).not.toHaveProperty("broken_seq");
    // A fault in the third step: the first two verified, the walk stops at it.
    const broken = await tampered(log, "update entries set action = action || 'x' where seq = 2200", inSteps);
    expect(broken).toMatchObject({ ok: false, broken_seq: 2200, from_seq: 1, next_from_seq: null });
  });

  it("a step that begins past the end verifies nothing and says so; a missing start entry is at fault", async () => {
    const log = await filled(`steps-end-${crypto.randomUUID()}`, 600);
    for (const fromSeq of [601, 5000])
      expect(await log.verify({ fromSeq, limit: 100 })).toMatchObject({
        ok: true,
        entries: 0,
        from_seq: fromSeq,
        last_seq: 600,
        next_from_seq: null,
      });
    // The step's starting hash is the stored one of from_seq - 1: without that entry nothing anchors it.
    const gap = await tampered(log, "delete from entries where seq = 299", (instance) =>
      instance.verify({ fromSeq: 300, limit: 100 }),
    );
    expect(gap).toMatchObject({ ok: false, broken_seq: 299, next_from_seq: null });
  });
});

/** The platform in-process over AuditLog objects of its own (as audit-empty-export.test.ts does). */
function ownLogPlatform(suffix: string) {
  const name = (tenant: string) => `${tenant}#${suffix}`;
  const namespace = { getByName: (tenant: string) => env.AUDIT_LOG.getByName(name(tenant)) };
  const { fetch } = testApp([system(), tenants(), identity(), audit()], { AUDIT_LOG: namespace });
  return { call: callerOf(fetch), name };
}

describe("GET /api/v1/admin/audit/verify with from_seq and limit", () => {
  it("verifies the whole chain without parameters, a step at a time; one step by its parameters", async () => {
    const t = await newTenant("auditsteps");
    const p = ownLogPlatform(crypto.randomUUID());
    await filled(p.name(t.id), AUDIT_VERIFY_MAX + 1);
    // Longer than one step: `ok` still speaks for every entry, as it did before steps.
    const whole = await p.call("/api/v1/admin/audit/verify", { token: t.adminKey });
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({
      ok: true,
      entries: AUDIT_VERIFY_MAX + 1,
      from_seq: 1,
      last_seq: AUDIT_VERIFY_MAX + 1,
      next_from_seq: null,
    });
    const first = await p.call("/api/v1/admin/audit/verify?from_seq=1", { token: t.adminKey });
    expect(first.body).toMatchObject({ ok: true, entries: AUDIT_VERIFY_MAX, next_from_seq: AUDIT_VERIFY_MAX + 1 });
    const rest = await p.call(`/api/v1/admin/audit/verify?from_seq=${AUDIT_VERIFY_MAX + 1}`, { token: t.adminKey });
    expect(rest.body).toMatchObject({ ok: true, entries: 1, last_seq: AUDIT_VERIFY_MAX + 1, next_from_seq: null });
    const small = await p.call("/api/v1/admin/audit/verify?from_seq=101&limit=50", { token: t.adminKey });
    expect(small.body).toMatchObject({ ok: true, entries: 50, from_seq: 101, last_seq: 150, next_from_seq: 151 });
  }, 60_000);

  it("refuses a from_seq or limit that is not a whole number in range with 400 validation_failed", async () => {
    const t = await newTenant("auditstepsbad");
    const p = ownLogPlatform(crypto.randomUUID());
    const bad: [string, string][] = [
      ["from_seq=0", "from_seq"],
      ["from_seq=-3", "from_seq"],
      ["from_seq=1.5", "from_seq"],
      ["from_seq=abc", "from_seq"],
      ["from_seq=1e3", "from_seq"],
      ["from_seq=", "from_seq"],
      ["limit=0", "limit"],
      [`limit=${AUDIT_VERIFY_MAX + 1}`, "limit"],
      ["limit=ten", "limit"],
    ];
    for (const [query, field] of bad) {
      const res = await p.call(`/api/v1/admin/audit/verify?${query}`, { token: t.adminKey });
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ code: "validation_failed", status: 400 });
      const errors = (res.body as { errors?: { path: string }[] }).errors ?? [];
      expect(
        errors.map((e) => e.path),
        query,
      ).toContain(`query.${field}`);
    }
    const both = await p.call("/api/v1/admin/audit/verify?from_seq=0&limit=0", { token: t.adminKey });
    expect(((both.body as { errors?: unknown[] }).errors ?? []).length).toBe(2);
  });
});
