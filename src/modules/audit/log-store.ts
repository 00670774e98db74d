import { storedJson } from "../../kernel/db/stored-json";
import { AuditFactsSchema } from "../../kernel/events/envelope";
import { type AuditCheckpoint, type AuditEntry, CHECKPOINT_V2, entryHash, GENESIS_HASH } from "./chain";
import type { AuditInput } from "./contract";

/** The AuditLog's SQLite schema, one entry per version; append, never edit. */
export const AUDIT_LOG_SCHEMA: string[][] = [
  [
    "create table meta (key text primary key, value text not null)",
    `create table entries (
       seq integer primary key,
       event_id text not null unique,
       at text not null,
       actor_kind text not null,
       actor_id text,
       action text not null,
       target text,
       request_id text,
       ip_hash text,
       prev_hash text not null,
       hash text not null
     )`,
    `create table checkpoints (
       seq integer primary key,
       hash text not null,
       signed_at text not null,
       kid text not null,
       signature text not null
     )`,
  ],
  // The writer's chosen facts of an event (JSON), null when it gave none.
  ["alter table entries add column detail text"],
  // A checkpoint's version: 2 signs its signed_at too; null for version 1 rows, stored before.
  ["alter table checkpoints add column v integer"],
];

type CheckpointRow = { v: number | null; seq: number; hash: string; signed_at: string; kid: string; signature: string };

/** A version 1 row keeps its shape (no `v`), so it exports exactly as it did. */
const toCheckpoint = ({ v, ...rest }: CheckpointRow): AuditCheckpoint =>
  v === CHECKPOINT_V2 ? { v: CHECKPOINT_V2, ...rest } : rest;

type EntryRow = {
  seq: number;
  event_id: string;
  at: string;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  request_id: string | null;
  ip_hash: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
};

const toEntry = (r: EntryRow): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  actor: { kind: r.actor_kind, id: r.actor_id },
  action: r.action,
  target: r.target,
  request_id: r.request_id,
  ip_hash: r.ip_hash,
  ...(r.detail === null
    ? {}
    : { detail: AuditFactsSchema.parse(storedJson(r.detail, `audit entry seq ${r.seq} detail`)) }),
  prev_hash: r.prev_hash,
  hash: r.hash,
});

/**
 * The SQL of one tenant's audit chain. Rows are only ever inserted: no method
 * updates or deletes an entry or a checkpoint.
 */
export class AuditLogStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  tenantId(): string | null {
    return (
      this.sql.exec<{ value: string }>("select value from meta where key = 'tenant_id'").toArray()[0]?.value ?? null
    );
  }

  /**
   * Records whose log this is, as the first append does; for an empty log's export, so that
   * the object refuses another tenant's id from then on.
   */
  recordTenant(tenantId: string): void {
    this.sql.exec("insert into meta (key, value) values ('tenant_id', ?) on conflict do nothing", tenantId);
  }

  last(): { seq: number; hash: string } {
    const row = this.sql
      .exec<{ seq: number; hash: string }>("select seq, hash from entries order by seq desc limit 1")
      .toArray()[0];
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Appends the events not yet recorded, in the given order, and returns the
   * entries of every given event (new or already recorded), so a caller that
   * crashed after an earlier append can finish its own work.
   */
  append(inputs: readonly AuditInput[]): { entries: AuditEntry[]; appended: number } {
    // Synchronous from the read of the last hash to the commit: nothing interleaves.
    let { seq, hash } = this.last();
    const fresh: (AuditEntry & { event_id: string })[] = [];
    const seen = new Set<string>();
    for (const input of inputs) {
      if (seen.has(input.event_id) || this.entryOf(input.event_id)) continue;
      seen.add(input.event_id);
      const unsigned = {
        seq: seq + 1,
        at: input.at,
        actor: { kind: input.actor.kind, id: input.actor.id },
        action: input.action,
        target: input.target,
        request_id: input.request_id,
        ip_hash: input.ip_hash,
        ...(input.detail === null ? {} : { detail: input.detail }),
        prev_hash: hash,
      };
      const entry = { ...unsigned, hash: entryHash(unsigned) };
      fresh.push({ ...entry, event_id: input.event_id });
      seq = entry.seq;
      hash = entry.hash;
    }
    const tenantId = inputs[0]?.tenant_id;
    this.storage.transactionSync(() => {
      if (tenantId)
        this.sql.exec("insert into meta (key, value) values ('tenant_id', ?) on conflict do nothing", tenantId);
      for (const e of fresh) {
        this.sql.exec(
          `insert into entries (seq, event_id, at, actor_kind, actor_id, action, target, request_id, ip_hash, detail, prev_hash, hash)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          e.seq,
          e.event_id,
          e.at,
          e.actor.kind,
          e.actor.id,
          e.action,
          e.target,
          e.request_id,
          e.ip_hash,
          e.detail === undefined ? null : JSON.stringify(e.detail),
          e.prev_hash,
          e.hash,
        );
      }
    });
    const entries = inputs
      .map((i) => this.entryOf(i.event_id))
      .filter((e): e is AuditEntry => e !== null)
      .filter((e, i, all) => all.findIndex((x) => x.seq === e.seq) === i);
    return { entries, appended: fresh.length };
  }

  private entryOf(eventId: string): AuditEntry | null {
    const row = this.sql.exec<EntryRow>("select * from entries where event_id = ?", eventId).toArray()[0];
    return row ? toEntry(row) : null;
  }

  /** Entries with seq >= fromSeq, oldest first. */
  entries(fromSeq: number, limit: number): AuditEntry[] {
    return this.sql
      .exec<EntryRow>("select * from entries where seq >= ? order by seq limit ?", fromSeq, limit)
      .toArray()
      .map(toEntry);
  }

  latestCheckpoint(): AuditCheckpoint | null {
    const row = this.sql
      .exec<CheckpointRow>("select v, seq, hash, signed_at, kid, signature from checkpoints order by seq desc limit 1")
      .toArray()[0];
    return row ? toCheckpoint(row) : null;
  }

  /** The checkpoints from `fromSeq` to `throughSeq` (default: all), oldest first. */
  checkpoints(fromSeq = 0, throughSeq = Number.MAX_SAFE_INTEGER): AuditCheckpoint[] {
    return this.sql
      .exec<CheckpointRow>(
        "select v, seq, hash, signed_at, kid, signature from checkpoints where seq between ? and ? order by seq",
        fromSeq,
        throughSeq,
      )
      .toArray()
      .map(toCheckpoint);
  }

  addCheckpoint(cp: AuditCheckpoint): void {
    this.sql.exec(
      "insert into checkpoints (v, seq, hash, signed_at, kid, signature) values (?, ?, ?, ?, ?, ?) on conflict do nothing",
      cp.v ?? null,
      cp.seq,
      cp.hash,
      cp.signed_at,
      cp.kid,
      cp.signature,
    );
  }
}
