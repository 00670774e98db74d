import { DurableObject } from "cloudflare:workers";
import type { Clock } from "../../src/kernel/clock";
import { type RpcArgs, type RpcReply, rpcArgs } from "../../src/kernel/durable/rpc";
import { migrateSqlite } from "../../src/kernel/durable/sqlite-schema";
import { PingRpc, PONG } from "../../src/kernel/health/contract";
import { createLogger } from "../../src/kernel/log";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import { OutboxRelay } from "../../src/kernel/outbox/relay";
import { Authority } from "../../src/modules/identity/directory/authority";
import type { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { Credentials } from "../../src/modules/identity/directory/credentials";
import { Invitations } from "../../src/modules/identity/directory/invitations";
import { KeyMaterial } from "../../src/modules/identity/directory/key-material";
import { MailDismissals } from "../../src/modules/identity/directory/mail-dismissals";
import { GrantLedger } from "../../src/modules/identity/directory/module-grants";
import { Roles } from "../../src/modules/identity/directory/roles";
import { DIRECTORY_SCHEMA } from "../../src/modules/identity/directory/schema";
import { Sessions } from "../../src/modules/identity/directory/sessions";
import { TenantSettings } from "../../src/modules/identity/directory/settings";
import { DirectoryStore } from "../../src/modules/identity/directory/store";
import { TwoFactor } from "../../src/modules/identity/directory/two-factor";

type Rpc = typeof DirectoryRpc;
/** A directory RPC method's parsed argument and its reply. */
export type In<K extends keyof Rpc> = RpcArgs<Rpc, K>;
export type Out<K extends keyof Rpc> = RpcReply<Rpc, K>;

/**
 * What every layer of the TenantDirectory shares: its parts over one SQLite
 * storage, the schema migration on start, the outbox relay and `committed()`.
 * The RPC methods live in layers by concern (accounts.ts, and those extending
 * it); durable-objects/tenant-directory.ts names the last one as the class, over the
 * platform's clock: the time its relay paces and arms alarms by, and its metrics leave by.
 * The directory's own rules take the time from their callers (`ctx.now`).
 */
export abstract class DirectoryObject extends DurableObject<Env> {
  /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
  ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
    rpcArgs(PingRpc, "ping", input);
    return PONG;
  }

  protected readonly store: DirectoryStore;
  protected readonly creds: Credentials;
  protected readonly roles: Roles;
  protected readonly keys: KeyMaterial;
  protected readonly authority: Authority;
  protected readonly tenantSettings: TenantSettings;
  protected readonly sessions: Sessions;
  protected readonly grantLedger: GrantLedger;
  protected readonly twoFactor: TwoFactor;
  protected readonly invitations: Invitations;
  protected readonly mailDismissals: MailDismissals;
  protected readonly relay: OutboxRelay;

  constructor(
    ctx: DurableObjectState,
    env: Env,
    /** The platform's clock (src/index.ts; the test Worker's is one its tests move). */
    protected readonly clock: Clock,
  ) {
    super(ctx, env);
    this.store = new DirectoryStore(ctx.storage);
    this.creds = new Credentials(this.store);
    this.roles = new Roles(this.store);
    this.keys = new KeyMaterial(this.store);
    this.authority = new Authority(this.store, this.creds, this.roles);
    this.tenantSettings = new TenantSettings(this.store);
    this.sessions = new Sessions(this.store);
    this.grantLedger = new GrantLedger(this.store, this.roles);
    // Here rather than in the two-factor layer: single sign-on (below it) asks whether an account has it on.
    this.twoFactor = new TwoFactor(this.store, this.creds, this.tenantSettings);
    // Here rather than in the membership layer: deleting an account (accounts, below it) forgets
    // the invitations that name its person.
    this.invitations = new Invitations(this.store);
    this.mailDismissals = new MailDismissals(this.store);
    this.relay = new OutboxRelay(ctx.storage, {
      object: "TenantDirectory",
      clock,
      log: createLogger("error", { component: "outbox", durable_object: "TenantDirectory", id: ctx.id.toString() }),
    });
    void ctx.blockConcurrencyWhile(async () => {
      migrateSqlite(ctx.storage, DIRECTORY_SCHEMA);
    });
  }

  /** Retries the outbox drain with backoff; also the safety net if a post-commit drain died. */
  override async alarm(): Promise<void> {
    await this.relay.onAlarm(this.env.EVENTS);
    this.flushMetrics();
  }

  /**
   * Passes a mutation's result through, starting the outbox drain now that it committed. The
   * relay is told how many events were committed since (none: it does not look at the outbox).
   */
  protected committed<T>(result: T): T {
    this.relay.afterCommit(this.ctx, this.env.EVENTS, this.store.takeUnsent());
    this.flushMetrics();
    return result;
  }

  /** This isolate's metrics (the relay's among them) leave at most about once a second. */
  protected flushMetrics(): void {
    isolateMetrics().maybeFlush(this.env, this.clock, (p) => this.ctx.waitUntil(p));
  }
}
