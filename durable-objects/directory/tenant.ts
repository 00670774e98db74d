import { WrongTenant, wipeStorage } from "../../src/kernel/durable/erase";
import { rpcArgs } from "../../src/kernel/durable/rpc";
import { migrateSqlite } from "../../src/kernel/durable/sqlite-schema";
import { markErased } from "../../src/kernel/durable/tombstone";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { grantPairs } from "../../src/modules/identity/directory/module-grants";
import { DIRECTORY_SCHEMA } from "../../src/modules/identity/directory/schema";
import { TenantRow } from "../../src/modules/identity/directory/tenant-row";
import type { In, Out } from "./base";
import { DirectoryEmailChange } from "./email-change";

/**
 * The directory's own tenant record as platform operators change it: name,
 * plan, suspension. The change and its `tenants.tenant.*` event commit in one
 * transaction, so the tenant's audit log names who did it. And its end:
 * offboarding empties the directory, key seed included.
 */
export class DirectoryTenant extends DirectoryEmailChange {
  private readonly tenantRow = new TenantRow(this.store);

  tenantState(): Out<"tenantState"> {
    return this.tenantRow.current();
  }

  changeTenant(input: In<"changeTenant">): Out<"changeTenant"> {
    const { ctx, change, expectedVersion } = rpcArgs(DirectoryRpc, "changeTenant", input);
    return this.committed(this.tenantRow.change(ctx, change, expectedVersion));
  }

  /** The modules' grants not yet applied to this tenant's default roles, added and recorded (module-grants.ts). */
  applyGrants(input: In<"applyGrants">): Out<"applyGrants"> {
    const { ctx, grants } = rpcArgs(DirectoryRpc, "applyGrants", input);
    return this.committed(this.grantLedger.sync(ctx, grantPairs(grants)));
  }

  /** Offboarding: refuses another tenant's id, then forgets everything, so the object answers as a new one. */
  async eraseAll(input: In<"eraseAll">): Promise<Out<"eraseAll">> {
    const { tenant_id } = rpcArgs(DirectoryRpc, "eraseAll", input);
    const own = this.tenantRow.current()?.id;
    if (own !== undefined && own !== tenant_id) throw new WrongTenant("TenantDirectory");
    await wipeStorage(this.ctx.storage, () => {
      // The outbox goes with the rest: nothing it held is left to send.
      this.store.takeUnsent();
      migrateSqlite(this.ctx.storage, DIRECTORY_SCHEMA);
      // The key seed went with the rest: the tombstone keeps a late seal from creating a new one.
      markErased(this.ctx.storage.kv);
    });
    return { erased: true };
  }
}
