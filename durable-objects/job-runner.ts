import { z } from "zod";
import { Actor } from "../src/kernel/actors";
import type { Clock } from "../src/kernel/clock";
import { newId } from "../src/kernel/crypto/tokens";
import { storedJson } from "../src/kernel/db/stored-json";
import { type RpcArgs, type RpcReplySent, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import {
  AttemptRecord,
  HISTORY,
  JobRunnerRpc,
  JobSummary,
  JobSummaryJson,
  LeaseView,
  type RunSent,
} from "../src/kernel/jobs/contract";
import { decide, type Lease, type LeaseState } from "../src/kernel/jobs/lease";
import { METRICS } from "../src/kernel/metrics/catalog";
import { isolateRecorder } from "../src/kernel/metrics/recorder";
import type { ModuleDef } from "../src/kernel/modules/types";

type Rpc = typeof JobRunnerRpc;

/** The object's tables, one version per entry, each recorded as shipped by npm run generate: append a version, never edit one. */
export const JOB_RUNNER_SCHEMA: readonly string[][] = [
  [
    `create table job (
       id integer primary key check (id = 1),
       name text not null,
       last_fire integer,
       last_success integer,
       lease text
     )`,
    `create table runs (
       lease_id text primary key,
       fire integer not null,
       trigger text not null,
       started_at integer not null,
       finished_at integer not null,
       duration_ms integer not null,
       outcome text not null,
       attempts text not null,
       error text
     )`,
    "create index runs_started on runs (started_at)",
  ],
  // What a run's job returned (JSON), for `plinth jobs run` and the job list.
  ["alter table runs add column result text"],
];

interface JobRow extends Record<string, SqlStorageValue> {
  name: string;
  last_fire: number | null;
  last_success: number | null;
  lease: string | null;
}

interface RunRow extends Record<string, SqlStorageValue> {
  lease_id: string;
  fire: number;
  trigger: string;
  started_at: number;
  finished_at: number;
  duration_ms: number;
  outcome: string;
  attempts: string;
  error: string | null;
  result: string | null;
}

/** The one timer: a lease's end, to record its run as lost if it never reported. */
const Timer = z.object({ kind: z.literal("expire"), lease: z.string() });
type Timer = z.infer<typeof Timer>;
const LEASE_TIMER = "lease";

const Attempts = z.array(AttemptRecord);
const StoredRun = z.object({
  lease_id: z.string(),
  fire: z.number(),
  trigger: z.enum(["cron", "manual"]),
  started_at: z.number(),
  finished_at: z.number(),
  duration_ms: z.number(),
  outcome: z.enum(["ok", "failed", "lost"]),
  error: z.string().nullable(),
});

/**
 * The JobRunner actor class, one per job (named `<module>/<job>`): hands out
 * the lease a run needs (so a job runs once per fire time, and never twice at
 * once, whatever the number of isolates and invocations asking), records each
 * run (outcome, duration, attempts; the newest {@link HISTORY}), and records
 * a run whose lease ran out unreported as lost. The rule is
 * src/kernel/jobs/lease.ts; the runs themselves execute in the invocation
 * that holds the lease (src/kernel/jobs/runner.ts). See docs/operations.md.
 */
export function jobRunnerObject(platform: { clock: Clock; modules: readonly ModuleDef[] }) {
  return class JobRunner extends Actor<Timer> implements RpcServer<Rpc> {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "JobRunner",
        schema: JOB_RUNNER_SCHEMA,
        timerMessage: Timer,
        modules: platform.modules,
        clock: platform.clock,
      });
    }

    async acquire(input: RpcArgs<Rpc, "acquire">): Promise<RpcReplySent<Rpc, "acquire">> {
      const lost: { job: string; lease: Lease }[] = [];
      const reply = await this.receive("acquire", () => {
        const { job, fire, trigger, lease_ms } = rpcArgs(JobRunnerRpc, "acquire", input);
        const row = this.row() ?? this.create(job);
        const now = this.now();
        const decision = decide(
          { lastFire: row.last_fire, held: this.held(row) },
          { id: newId(now), fire, trigger, leaseMs: lease_ms },
          now,
        );
        if (!decision.granted) return { granted: false as const, reason: decision.reason, held: decision.held };
        if (decision.expired) {
          this.recordLost(decision.expired);
          lost.push({ job: row.name, lease: decision.expired });
        }
        this.save(decision.state);
        this.schedule({ kind: "expire", lease: decision.lease.id }, decision.lease.expires_at, { key: LEASE_TIMER });
        return { granted: true as const, lease: decision.lease, last_success: row.last_success };
      });
      for (const { job, lease } of lost) this.reportLost(job, lease);
      return reply;
    }

    finish(input: RpcArgs<Rpc, "finish">): Promise<RpcReplySent<Rpc, "finish">> {
      return this.receive("finish", () => {
        const { lease_id, outcome, duration_ms, attempts, error, result } = rpcArgs(JobRunnerRpc, "finish", input);
        const row = this.row();
        const held = row ? this.held(row) : null;
        // The lease: still held, or already recorded (written off as lost: a run that overran it still reports).
        const lease = held?.id === lease_id ? held : this.recorded(lease_id);
        if (!row || !lease) return { run: null };
        const run: RunSent = {
          lease_id,
          fire: lease.fire,
          trigger: lease.trigger,
          started_at: lease.started_at,
          finished_at: this.now(),
          duration_ms,
          outcome,
          attempts,
          error,
          result: result === null ? null : JobSummaryJson.encode(result),
        };
        this.insertRun(run);
        if (outcome === "ok") {
          this.ctx.storage.sql.exec(
            "update job set last_success = max(coalesce(last_success, 0), ?) where id = 1",
            lease.fire,
          );
        }
        if (held?.id === lease_id) {
          this.ctx.storage.sql.exec("update job set lease = null where id = 1");
          this.cancel(LEASE_TIMER);
        }
        return { run };
      });
    }

    /** A read: answered even while supervision pauses the actor's messages. */
    status(input: RpcArgs<Rpc, "status">): RpcReplySent<Rpc, "status"> {
      const { limit } = rpcArgs(JobRunnerRpc, "status", input);
      this.ready();
      const row = this.row();
      if (!row) return { running: null, last_success: null, runs: [] };
      const held = this.held(row);
      const runs = this.ctx.storage.sql
        .exec<RunRow>("select * from runs order by started_at desc, lease_id desc limit ?", limit)
        .toArray()
        .map(runOf);
      return { running: held && held.expires_at > this.now() ? held : null, last_success: row.last_success, runs };
    }

    /** A lease's end: if it is still held, its run never reported and is recorded as lost. */
    protected override onTimer(message: Timer): void {
      const lost = this.transact(() => {
        const row = this.row();
        const held = row ? this.held(row) : null;
        if (!row || held?.id !== message.lease || held.expires_at > this.now()) return null;
        this.recordLost(held);
        this.ctx.storage.sql.exec("update job set lease = null where id = 1");
        return { job: row.name, lease: held };
      });
      if (lost) this.reportLost(lost.job, lost.lease);
    }

    private row(): JobRow | null {
      return (
        this.ctx.storage.sql.exec<JobRow>("select name, last_fire, last_success, lease from job").toArray()[0] ?? null
      );
    }

    private create(name: string): JobRow {
      this.ctx.storage.sql.exec("insert into job (id, name) values (1, ?)", name);
      return { name, last_fire: null, last_success: null, lease: null };
    }

    private held(row: JobRow): Lease | null {
      return row.lease === null ? null : LeaseView.parse(storedJson(row.lease, `job ${row.name} lease`));
    }

    private save(state: LeaseState): void {
      this.ctx.storage.sql.exec(
        "update job set last_fire = ?, lease = ? where id = 1",
        state.lastFire,
        state.held ? JSON.stringify(state.held) : null,
      );
    }

    private recorded(leaseId: string): Lease | null {
      const row = this.ctx.storage.sql.exec<RunRow>("select * from runs where lease_id = ?", leaseId).toArray()[0];
      if (!row) return null;
      const run = runOf(row);
      return { id: run.lease_id, fire: run.fire, trigger: run.trigger, started_at: run.started_at, expires_at: 0 };
    }

    /**
     * Counts and logs a lost run once its write-off committed: counted in the transaction, one that
     * rolled back counted a run storage never recorded, and its retry counted it again.
     */
    private reportLost(job: string, lease: Lease): void {
      isolateRecorder.inc(METRICS.jobRuns, [job, lease.trigger, "lost"]);
      this.log.error("job lease ran out before its run reported; recorded as lost", {
        job,
        lease_id: lease.id,
        fire: new Date(lease.fire).toISOString(),
      });
    }

    /** Writes a lease off as a lost run, in the caller's transaction ({@link reportLost} after it commits). */
    private recordLost(lease: Lease): void {
      this.insertRun({
        lease_id: lease.id,
        fire: lease.fire,
        trigger: lease.trigger,
        started_at: lease.started_at,
        finished_at: lease.expires_at,
        duration_ms: lease.expires_at - lease.started_at,
        outcome: "lost",
        attempts: [],
        error: "the lease ran out before the run reported",
        result: null,
      });
    }

    /** Writes a run (replacing a lost record of the same lease) and forgets all but the newest runs. */
    private insertRun(run: RunSent): void {
      const sql = this.ctx.storage.sql;
      sql.exec(
        `insert or replace into runs (lease_id, fire, trigger, started_at, finished_at, duration_ms, outcome, attempts, error, result)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        run.lease_id,
        run.fire,
        run.trigger,
        run.started_at,
        run.finished_at,
        run.duration_ms,
        run.outcome,
        JSON.stringify(run.attempts),
        run.error,
        // Stored as it is sent: the summary's JSON text.
        run.result,
      );
      sql.exec(
        "delete from runs where lease_id not in (select lease_id from runs order by started_at desc, lease_id desc limit ?)",
        HISTORY,
      );
    }
  };
}

/** A stored run as the object sends it; its result checked as a summary here, so a bad row fails in the object. */
function runOf(row: RunRow): RunSent {
  return {
    ...StoredRun.parse(row),
    attempts: Attempts.parse(storedJson(row.attempts, `job run ${row.lease_id} attempts`)),
    result:
      row.result === null
        ? null
        : JobSummaryJson.encode(JobSummary.parse(storedJson(row.result, `job run ${row.lease_id} result`))),
  };
}
