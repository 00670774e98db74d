import { newId } from "../crypto";
import { storedJson } from "../db/stored-json";
import { fieldPath } from "../errors/field-path";
import { describeExpected, type ExpectedVersion, versionMatches } from "../http/if-match";
import { createLogger, type LogFields, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { appendOutbox, EventTooLargeError, MAX_EVENT_BYTES, OUTBOX_SCHEMA } from "../outbox";
import type { TraceCarrier } from "../telemetry";
import type { DecideContext, Decider } from "./decider";
import { type Envelope, type NewEvent, type OutgoingEvent, parseEnvelope, parseStoredEvent } from "./envelope";

/** SQLite schema of an Aggregate Durable Object, one entry per version. */
export const AGGREGATE_SCHEMA: string[][] = [
  [
    `create table events (
       version integer primary key,
       id text not null unique,
       type text not null,
       event text not null
     )`,
    `create table snapshot (id integer primary key check (id = 1), version integer not null, state text not null)`,
    ...OUTBOX_SCHEMA,
  ],
  // The stream the object serves, pinned on its first write: storage written for one
  // aggregate must never answer for another, even after the object was evicted.
  [`create table stream (id integer primary key check (id = 1), key text not null)`],
  // The decider's stateVersion a snapshot was written under; one written before this counts as 1.
  [`alter table snapshot add column state_version integer not null default 1`],
];

/** Why a command was not applied; crosses the DO RPC boundary as a value. */
export type HandleError =
  | { code: "validation_failed"; message: string; errors: { path: string; message: string }[] }
  | { code: "version_conflict"; message: string; current_version: number }
  | { code: string; message: string };

export type HandleResult<S> =
  | { ok: true; version: number; state: S; events: OutgoingEvent[] }
  | { ok: false; error: HandleError };

/** Where an aggregate lives. */
export interface StreamInfo {
  tenantId: string;
  type: string;
  id: string;
}

/** The stream name of an aggregate: `<tenant>/<type>/<id>`. */
export const streamKey = (s: StreamInfo): string => `${s.tenantId}/${s.type}/${s.id}`;

export interface HandleOptions {
  /** From If-Match: the versions the write applies at (any when absent). */
  expectedVersion?: ExpectedVersion;
  /**
   * The version whose state the caller authorized the command on (the command bus, when a
   * permission, deny rule or ownership read the state): a write at any other version is 412,
   * so a change in between never takes a write decided on an older state.
   */
  authorizedAt?: number;
  ctx: DecideContext;
  requestId: string | null;
  /** Keyed hash of the client's IP, carried in the outbox envelope for the audit log. */
  ipHash?: string | null;
  /** The trace context the events carry to their consumers. */
  trace?: TraceCarrier;
  /** Writes a snapshot when the version crosses a multiple of this. */
  snapshotEvery: number;
}

/**
 * Event-sourced state of one aggregate over a DO's SQLite storage: loads
 * snapshot + tail once (then keeps state in memory while the object lives),
 * and appends a decision's events, their outbox rows and any snapshot in one
 * `transactionSync`. Stored events and snapshots are parsed with the
 * decider's schemas on load, never trusted as they lie.
 */
export class AggregateStore<C extends { type: string }, E extends NewEvent, S> {
  private loaded: { version: number; state: S } | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly decider: Decider<C, E, S>,
    private readonly stream: StreamInfo,
    private readonly log: Pick<Logger, "warn"> = createLogger("warn", { component: "aggregate" }),
  ) {}

  private get sql() {
    return this.storage.sql;
  }

  /** Current version and state (0 and the initial state for a new aggregate). */
  current(): { version: number; state: S } {
    if (this.loaded) return this.loaded;
    const snap = this.storedSnapshot();
    let version = snap?.version ?? 0;
    let state = snap?.state ?? this.decider.initialState;
    for (const envelope of this.read(version + 1, Number.MAX_SAFE_INTEGER)) {
      state = this.decider.evolve(state, parseStoredEvent(this.decider.eventSchema, envelope));
      version = envelope.version;
    }
    this.loaded = { version, state };
    return this.loaded;
  }

  /**
   * The stored snapshot, when this decider can use it. A snapshot only caches what the events
   * give, so one written under another `stateVersion`, or that `stateSchema` refuses (the module
   * changed its state's shape since), is ignored with one warning per load: the caller folds the
   * events from the first, and the next snapshot point writes the new shape. Never thrown: every
   * command on the stream would fail with it. Runs on a load only, never per command.
   */
  private storedSnapshot(): { version: number; state: S } | null {
    const snap = this.sql
      .exec<{ version: number; state: string; state_version: number }>(
        "select version, state, state_version from snapshot",
      )
      .toArray()[0];
    if (!snap) return null;
    // Why, never the state's contents: a field's path and zod's code name the mismatch well enough.
    const ignored = (reason: string, fields: LogFields = {}) => {
      this.log.warn("aggregate snapshot ignored; state rebuilt from the events", {
        stream: streamKey(this.stream),
        aggregate: this.stream.type,
        reason,
        snapshot_version: snap.version,
        ...fields,
      });
      return null;
    };
    const stateVersion = this.decider.stateVersion ?? 1;
    if (snap.state_version !== stateVersion)
      return ignored("state_version", { snapshot_state_version: snap.state_version, state_version: stateVersion });
    let json: unknown;
    try {
      json = JSON.parse(snap.state);
    } catch {
      // V8's message quotes part of the text: not logged.
      return ignored("not_json");
    }
    const parsed = this.decider.stateSchema.safeParse(json);
    if (!parsed.success)
      return ignored("state_schema", {
        issues: parsed.error.issues.map((i) => `${fieldPath(["state", ...i.path])}: ${i.code}`),
      });
    return { version: snap.version, state: parsed.data };
  }

  /** Events with version >= fromVersion, oldest first, as stored. */
  read(fromVersion: number, limit: number): Envelope[] {
    return this.sql
      .exec<{ version: number; event: string }>(
        "select version, event from events where version >= ? order by version limit ?",
        fromVersion,
        limit,
      )
      .toArray()
      .map((r) => parseEnvelope(storedJson(r.event, `${streamKey(this.stream)} event version ${r.version}`)));
  }

  /** Validates, decides, and commits the events with their outbox rows atomically. */
  handle(rawCommand: unknown, options: HandleOptions): HandleResult<S> {
    const parsed = this.decider.commandSchema.safeParse(rawCommand);
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          code: "validation_failed",
          message: "the command is invalid",
          errors: parsed.error.issues.map((i) => ({
            path: fieldPath(["body", ...i.path]),
            message: i.message,
          })),
        },
      };
    }
    const { version, state } = this.current();
    if (options.expectedVersion !== undefined && !versionMatches(options.expectedVersion, version)) {
      // No resource, no precondition (RFC 9110 13.2.1: a 404 comes before a 412): a stream with no
      // events answers the decider's own refusal, and so does one whose decider says the resource is
      // gone (`not_found`: a deleted post keeps its events, and its version counts the deletion).
      // Any other refusal comes from the command's content, after the precondition: 412.
      const refused = this.decider.decide(parsed.data, state, options.ctx);
      if (!refused.ok && (version === 0 || refused.error.code === "not_found"))
        return { ok: false, error: refused.error };
      return {
        ok: false,
        error: {
          code: "version_conflict",
          message: `expected version ${describeExpected(options.expectedVersion)}, the current version is ${version}`,
          current_version: version,
        },
      };
    }
    if (options.authorizedAt !== undefined && options.authorizedAt !== version) {
      return {
        ok: false,
        error: {
          code: "version_conflict",
          message: `the request was authorized at version ${options.authorizedAt}, the current version is ${version}`,
          current_version: version,
        },
      };
    }
    const decision = this.decider.decide(parsed.data, state, options.ctx);
    if (!decision.ok) return { ok: false, error: decision.error };

    let next = state;
    let nextVersion = version;
    const envelopes: OutgoingEvent[] = [];
    const at = Date.parse(options.ctx.now);
    for (const event of decision.events) {
      nextVersion++;
      next = this.decider.evolve(next, event);
      envelopes.push({
        id: newId(at),
        type: event.type,
        tenant_id: this.stream.tenantId,
        stream: streamKey(this.stream),
        version: nextVersion,
        occurred_at: options.ctx.now,
        actor: options.ctx.actor,
        data: event.data,
        request_id: options.requestId,
        ip_hash: options.ipHash ?? null,
        ...(options.trace ? { trace: options.trace } : {}),
      });
    }
    if (envelopes.length > 0) {
      try {
        this.storage.transactionSync(() => {
          for (const e of envelopes) {
            // Serialised once, for the event log and the outbox alike.
            const json = JSON.stringify(e);
            this.sql.exec(
              "insert into events (version, id, type, event) values (?, ?, ?, ?)",
              e.version,
              e.id,
              e.type,
              json,
            );
            appendOutbox(this.sql, e, json);
          }
          if (Math.floor(nextVersion / options.snapshotEvery) > Math.floor(version / options.snapshotEvery)) {
            this.sql.exec(
              "insert into snapshot (id, version, state, state_version) values (1, ?, ?, ?) on conflict(id) do update set version = excluded.version, state = excluded.state, state_version = excluded.state_version",
              nextVersion,
              JSON.stringify(next),
              this.decider.stateVersion ?? 1,
            );
          }
        });
      } catch (error) {
        // An event no queue message can carry (appendOutbox refuses it): the transaction rolled
        // back, so nothing was written, and the command is rejected rather than failed.
        if (!(error instanceof EventTooLargeError)) throw error;
        return {
          ok: false,
          error: {
            code: "payload_too_large",
            message: `the change would record a ${error.type} event of ${error.bytes} bytes as JSON; an event may be at most ${MAX_EVENT_BYTES}`,
          },
        };
      }
      this.loaded = { version: nextVersion, state: next };
      // Committed: these rows now wait in the outbox until the relay's plinth_outbox_sent_total counts them out.
      isolateRecorder.inc(METRICS.outboxAppended, ["Aggregate"], envelopes.length);
    }
    return { ok: true, version: nextVersion, state: next, events: envelopes };
  }

  /** Forgets the in-memory state (after a failed transaction, the storage is the truth). */
  reset(): void {
    this.loaded = null;
  }
}
