import type { Clock } from "../src/kernel/clock";
import type { RpcServer } from "../src/kernel/durable/rpc";
import type { PingRpc } from "../src/kernel/health/contract";
import type { DirectoryRpc } from "../src/modules/identity/directory/contract";
import { DirectoryPersonalData } from "./directory/personal-data";

/**
 * One per tenant: the single writer of its users, roles, API keys,
 * refresh-token families, one-time tokens, two-factor secrets, the SSO client
 * secret and its own tenant record (name, plan, suspension). A thin RPC adapter over
 * DirectoryStore/Credentials/Roles/Sessions; every state change and its outbox events
 * commit in one SQLite transaction, and an OutboxRelay moves the events to
 * the `EVENTS` queue after the commit (and from `alarm()` on failure). Every
 * change of authority asks the policy (src/modules/identity/policy.ts) first,
 * with the directory's current state, in the same call as the write. Built over the
 * platform's clock (src/index.ts), as the Aggregate is; the test Worker builds it over one
 * its tests move (test/object-clocks.ts).
 */
export function tenantDirectoryObject(platform: { clock: Clock }) {
  return class TenantDirectory
    extends DirectoryPersonalData
    implements RpcServer<typeof DirectoryRpc>, RpcServer<typeof PingRpc>
  {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, platform.clock);
    }
  };
}

/** A TenantDirectory object, as the class {@link tenantDirectoryObject} returns. */
export type TenantDirectory = InstanceType<ReturnType<typeof tenantDirectoryObject>>;
