import { AppError } from "../../kernel/errors";
import type { Logger } from "../../kernel/log";
import { directory } from "../identity/directory/contract";
import { forgetSettings } from "../identity/settings";
import { unknownTenant } from "./lifecycle";
import type { PlatformCall } from "./service";
import { tenantStore } from "./store";

/**
 * An operator's way out of a tenant's own rate limits: its settings' `rate_limits`
 * become empty, so its plan's limits and the platform's apply again. A tenant that set
 * its `tenant` limit to one a day is refused everything for the day, the PATCH that
 * would undo it included; no key of its own can clear it.
 *
 * The tenant's directory records it as the platform's `identity.settings.updated`
 * (fields `rate_limits`), so the tenant's admins see who changed their settings; the
 * platform's record is the log line. This isolate forgets its cached settings, others
 * within the settings cache's 10 s; the limiter re-counts what each key owes at the rate
 * then in force (gcra.ts `rerated`), so a key spent at one a day is not held for the day.
 * Clearing nothing records nothing.
 */
export async function clearRateLimits(
  env: Env,
  id: string,
  call: PlatformCall & { log: Pick<Logger, "info"> },
): Promise<void> {
  // The registry first: an unknown id must not reach (and so create) a directory object.
  if (!(await tenantStore(env.DB).find("id", id))) throw await unknownTenant(env.DB, id);
  const result = await directory(env, id).updateSettings({
    ctx: call.origin(),
    patch: { rate_limits: {} },
  });
  // Without an expected version the directory has no reason to refuse.
  if (!result.ok) throw new AppError("internal", { cause: new Error(`settings refused: ${result.error}`) });
  forgetSettings(id);
  call.log.info("tenant rate limits cleared", { event: "tenants.tenant.rate_limits_cleared", tenant_id: id });
}
