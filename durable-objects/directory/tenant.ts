import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { TenantRow } from "../../src/modules/identity/directory/tenant-row";
import type { In, Out } from "./base";
import { DirectorySealed } from "./sealed";

/**
 * The directory's own tenant record as platform operators change it: name,
 * plan, suspension. The change and its `tenants.tenant.*` event commit in one
 * transaction, so the tenant's audit log names who did it.
 */
export class DirectoryTenant extends DirectorySealed {
  private readonly tenantRow = new TenantRow(this.store);

  tenantState(): Out<"tenantState"> {
    return this.tenantRow.current();
  }

  changeTenant(input: In<"changeTenant">): Out<"changeTenant"> {
    const { ctx, change, expectedVersion } = rpcArgs(DirectoryRpc, "changeTenant", input);
    return this.committed(this.tenantRow.change(ctx, change, expectedVersion));
  }
}
