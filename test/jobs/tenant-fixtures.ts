import { expect } from "vitest";
import { call, newTenant, rootKey } from "../identity/helpers";

/** A platform operator's call on a tenant (`path` after `/api/v1/platform/tenants/`). */
export const platform = (path: string, method: "POST" | "DELETE" | "PATCH", body?: unknown) =>
  call(`/api/v1/platform/tenants/${path}`, { method, token: rootKey(), ...(body ? { body } : {}) });

/** An active, a suspended and a deleted (not yet erased) tenant of this test's own. */
export async function threeTenants(prefix: string) {
  const active = await newTenant(`${prefix}-a`);
  const suspended = await newTenant(`${prefix}-s`);
  const deleted = await newTenant(`${prefix}-d`);
  expect((await platform(`${suspended.id}/suspend`, "POST")).status).toBe(200);
  expect((await platform(deleted.id, "DELETE")).status).toBe(202);
  return { active, suspended, deleted };
}
