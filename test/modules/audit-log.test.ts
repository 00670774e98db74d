import { createExecutionContext, createMessageBatch, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import type { Envelope } from "../../src/kernel/events/envelope";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { modules } from "../../src/modules";
import { auditLog } from "../../src/modules/audit/contract";
import { recordEvents } from "../../src/modules/audit/subscriber";
import { deliver, runJobNamed, testRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";
import { auditLogClock } from "../object-clocks";

const platform = createPlatform({ modules, migrations: MIGRATIONS });
const recordEvent = (e: Envelope) => deliver(recordEvents, [e], testRuntime());

let n = 0;
const event = (tenant: string, type = "identity.user.logged_in", id = `ev-${++n}`): Envelope => ({
  id,
  type,
  tenant_id: tenant,
  stream: `${tenant}/post/${id}`,
  version: 1,
  occurred_at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: { kind: "user", id: "u1" },
  request_id: `req-${id}`,
  data: {},
});

const input = (e: Envelope) => ({
  event_id: e.id,
  tenant_id: e.tenant_id,
  at: String(e.occurred_at),
  actor: { kind: "user", id: "u1" },
  action: e.type,
  target: String(e.stream),
  request_id: null,
  ip_hash: null,
});

const d1Count = async (tenant: string) =>
  (
    await env.DB.prepare("select count(*) as n from audit_entries where tenant_id = ?")
      .bind(tenant)
      .first<{ n: number }>()
  )?.n;

describe("AuditLog durable object", () => {
  afterEach(() => auditLogClock.release());

  it("appends an event once however often it is delivered, in arrival order", async () => {
    const tenant = `dedup-${Date.now()}`;
    const [a, b] = [event(tenant, "identity.keys.created"), event(tenant, "identity.user.logged_in")];
    // The subscriber called twice for the same event (a crash after the append, then a retry).
    await recordEvent(a);
    await recordEvent(a);
    // The queue delivering a batch twice, and the same event twice within one batch.
    const handler = createQueueHandler(platform);
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("plinth-events", [
        { id: `m-${i}-1`, timestamp: new Date(), attempts: 1, body: b },
        { id: `m-${i}-2`, timestamp: new Date(), attempts: 1, body: b },
        { id: `m-${i}-3`, timestamp: new Date(), attempts: 1, body: a },
      ]);
      await handler(batch, env, createExecutionContext());
    }
    const log = auditLog(env, tenant);
    const entries = await log.entries({ fromSeq: 1, limit: 100 });
    expect(entries.map((e) => [e.seq, e.action, e.request_id])).toEqual([
      [1, "identity.keys.created", `req-${a.id}`],
      [2, "identity.user.logged_in", `req-${b.id}`],
    ]);
    expect(await d1Count(tenant)).toBe(2);
    // One append call with a duplicate inside it still appends once.
    const c = event(tenant);
    const reply = await log.append({ events: [input(c), input(c)] });
    expect(reply.appended).toBe(1);
    expect(reply.entries.map((e) => e.seq)).toEqual([3]);
  });

  it("signs a checkpoint every N entries and on demand only when the chain advanced, at the object's time", async () => {
    // The test Worker builds AuditLog over auditLogClock: a checkpoint is signed at its time.
    auditLogClock.set("2031-05-01T12:00:00.000Z");
    const tenant = `cp-${Date.now()}`;
    const log = env.AUDIT_LOG.getByName(tenant);
    const first = await log.append({ events: [1, 2, 3, 4].map(() => input(event(tenant))), checkpointEvery: 5 });
    expect(first.checkpoint).toBeNull();
    const fifth = await log.append({ events: [input(event(tenant))], checkpointEvery: 5 });
    expect(fifth.checkpoint).toMatchObject({
      seq: 5,
      hash: fifth.entries[0]?.hash,
      signed_at: "2031-05-01T12:00:00.000Z",
    });
    expect(await log.checkpoint()).toEqual(fifth.checkpoint);
    await log.append({ events: [input(event(tenant))], checkpointEvery: 5 });
    auditLogClock.advance(3_600_000);
    expect(await log.checkpoint()).toMatchObject({ seq: 6, signed_at: "2031-05-01T13:00:00.000Z" });
  });

  it("verify refuses a checkpoint whose signature or hash was altered", async () => {
    const tenant = `sig-${Date.now()}`;
    const log = env.AUDIT_LOG.getByName(tenant);
    await log.append({ events: [1, 2, 3].map(() => input(event(tenant))), checkpointEvery: 3 });
    expect(await log.verify()).toMatchObject({ ok: true, checkpoint: { seq: 3 } });
    const stub = log as unknown as DurableObjectStub<AuditLog>;
    for (const change of [
      "update checkpoints set signature = 'AAAA' || substr(signature, 5)",
      "update checkpoints set signature = 'not base64url!'",
      "update checkpoints set hash = '0000' || substr(hash, 5)",
      "update checkpoints set kid = 'unknown-kid'",
    ]) {
      const verdict = await runInDurableObject(stub, async (instance: AuditLog, state) => {
        const saved = state.storage.sql.exec("select * from checkpoints").toArray()[0];
        state.storage.sql.exec(change);
        const result = await instance.verify();
        state.storage.sql.exec("delete from checkpoints");
        if (saved) {
          state.storage.sql.exec(
            "insert into checkpoints (v, seq, hash, signed_at, kid, signature) values (?, ?, ?, ?, ?, ?)",
            saved.v,
            saved.seq,
            saved.hash,
            saved.signed_at,
            saved.kid,
            saved.signature,
          );
        }
        return result;
      });
      expect(verdict, change).toMatchObject({ ok: false, broken_seq: 3 });
    }
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it("the hourly job (run by name) checkpoints every tenant whose log advanced", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("cron");
    const log = env.AUDIT_LOG.getByName(t.id);
    await log.append({ events: [input(event(t.id))] });
    const before = await log.verify();
    expect(before.checkpoint).toBeNull();
    const { ran } = await runJobNamed("audit/checkpoint");
    expect(ran).toBe(true);
    const after = await log.verify();
    expect(after.ok).toBe(true);
    expect(after.checkpoint?.seq).toBeGreaterThanOrEqual(before.last_seq);
    vi.restoreAllMocks();
  });

  it("verify detects a sample of tampering in a 200-entry chain: field edits, deletions, swaps", async () => {
    const tenant = `mut-${Date.now()}`;
    const log = env.AUDIT_LOG.getByName(tenant);
    for (let i = 0; i < 2; i++) await log.append({ events: Array.from({ length: 100 }, () => input(event(tenant))) });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 200, last_seq: 200, checkpoint: { seq: 200 } });

    const columns = [
      "seq",
      "at",
      "actor_kind",
      "actor_id",
      "action",
      "target",
      "request_id",
      "ip_hash",
      "prev_hash",
      "hash",
    ];
    type Mutation = { name: string; sql: (s: number) => [string, ...(string | number)[]][] };
    const mutations: Mutation[] = [
      ...columns.map((col) => ({
        name: col,
        sql: (s: number): [string, ...(string | number)[]][] =>
          col === "seq"
            ? [["update entries set seq = seq + 100000 where seq = ?", s]]
            : [[`update entries set ${col} = coalesce(${col}, '') || 'x' where seq = ?`, s]],
      })),
      { name: "delete", sql: (s) => [["delete from entries where seq = ?", s]] },
      {
        name: "swap",
        sql: (s) => [
          ["update entries set seq = -1 where seq = ?", s],
          ["update entries set seq = ? where seq = ?", s, s + 1],
          ["update entries set seq = ? where seq = -1", s + 1],
        ],
      },
    ];
    const stub = log as unknown as DurableObjectStub<AuditLog>;
    let tried = 0;
    const missed: string[] = [];
    for (const s of [1, 2, 57, 100, 101, 150, 199, 200]) {
      for (const m of mutations) {
        if (m.name === "swap" && s === 200) continue;
        tried++;
        const result = await runInDurableObject(stub, async (instance: AuditLog, state) => {
          const sql = state.storage.sql;
          const saved = sql.exec("select * from entries").toArray();
          for (const [statement, ...args] of m.sql(s)) sql.exec(statement, ...args);
          const verdict = await instance.verify();
          sql.exec("delete from entries");
          for (const row of saved) {
            const cols = Object.keys(row);
            sql.exec(
              `insert into entries (${cols.join(",")}) values (${cols.map(() => "?").join(",")})`,
              ...cols.map((c) => row[c] ?? null),
            );
          }
          return verdict;
        });
        if (result.ok) missed.push(`${m.name}@${s}`);
      }
    }
    console.info(`audit mutation sample (DO verify): tried ${tried}, detected ${tried - missed.length}`);
    expect(missed).toEqual([]);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 200 });
  });
});
