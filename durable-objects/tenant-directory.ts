import type { RpcServer } from "../src/kernel/durable/rpc";
import type { PingRpc } from "../src/kernel/health/contract";
import type { DirectoryRpc } from "../src/modules/identity/directory/contract";
import { DirectoryTenant } from "./directory/tenant";

/**
 * One per tenant: the single writer of its users, roles, API keys,
 * refresh-token families, one-time tokens, two-factor secrets, the SSO client
 * secret and its own tenant record (name, plan, suspension). A thin RPC adapter over
 * DirectoryStore/Credentials/Roles/Sessions; every state change and its outbox events
 * commit in one SQLite transaction, and an OutboxRelay moves the events to
 * the `EVENTS` queue after the commit (and from `alarm()` on failure). Every
 * change of authority asks the policy (src/modules/identity/policy.ts) first,
 * with the directory's current state, in the same call as the write.
 */
export class TenantDirectory
  extends DirectoryTenant
  implements RpcServer<typeof DirectoryRpc>, RpcServer<typeof PingRpc> {}
