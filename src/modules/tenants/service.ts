import type { Clock } from "../../kernel/clock";
import { newId } from "../../kernel/crypto";
import { AppError } from "../../kernel/errors";
import type { Origin } from "../../kernel/events/origin";
import type { RoleGrants } from "../../kernel/modules/grants";
import { directory } from "../identity/directory/contract";
import type { KeyView } from "../identity/directory/types";
import { keyIndex } from "../identity/key-index";
import { newApiKey } from "../identity/services";
import type { TenantRecord } from "./domain";
import { forgetTenant } from "./lookup";
import { tenantStore } from "./store";

/** Who asks, from where, when: the platform's call context (platform-call.ts builds a request's). */
export interface PlatformCall {
  environment: string;
  clock: Clock;
  /**
   * The request's origin (kernel/events/origin.ts) as of this call: one clock read, so an
   * operation asks for it where it writes, and its rows and its event share the time.
   */
  origin(): Origin;
}

/**
 * Creates a tenant: reserves the slug in D1 (unique), indexes the first admin
 * key, initialises the tenant's directory (default roles with the registered
 * modules' `grants`, the admin key with every permission), then marks the tenant
 * active. A failure part-way undoes the D1 rows, so the slug can be tried again.
 */
export async function createTenant(
  env: Env,
  input: { slug: string; name: string; plan: string },
  call: PlatformCall,
  grants: RoleGrants = {},
): Promise<TenantRecord & { admin_key: string }> {
  const origin = call.origin();
  const { now } = origin;
  const tenant = { id: newId(call.clock.now().getTime()), slug: input.slug, name: input.name, plan: input.plan };
  const store = tenantStore(env.DB);
  if (!(await store.reserve(tenant, now)))
    throw new AppError("conflict", { detail: `the slug "${input.slug}" is taken` });
  const key = await newApiKey(call.environment);
  try {
    await keyIndex(env.DB).add(key.hash, tenant.id, now);
    await directory(env, tenant.id).init({
      ctx: origin,
      tenant,
      grants,
      adminKey: { id: newId(call.clock.now().getTime()), name: "admin", prefix: key.prefix, hash: key.hash },
    });
    await store.activate(tenant.id);
  } catch (error) {
    await keyIndex(env.DB).removeTenant(tenant.id);
    await store.remove(tenant.id);
    throw error;
  }
  forgetTenant(tenant);
  return {
    ...tenant,
    status: "active",
    created_at: now,
    suspended_at: null,
    suspended_reason: null,
    version: 1,
    deleted_at: null,
    erasure_done: [],
    erasure_tried_at: null,
    erasure_failures: 0,
    erasure_failed_step: null,
    erasure_error: null,
    admin_key: key.key,
  };
}

/**
 * Recovery: a new key holding every permission (`*`) for an existing tenant,
 * issued by the platform (audited in the tenant's log as the platform's
 * `identity.key.created`). Whatever a tenant revoked, it can be let back in.
 */
export async function issueAdminKey(
  env: Env,
  input: { tenantId: string; name: string },
  call: PlatformCall,
): Promise<KeyView & { key: string }> {
  const origin = call.origin();
  const { now } = origin;
  const secret = await newApiKey(call.environment);
  const index = keyIndex(env.DB);
  await index.add(secret.hash, input.tenantId, now);
  const result = await directory(env, input.tenantId).createKey({
    ctx: origin,
    key: {
      id: newId(call.clock.now().getTime()),
      name: input.name,
      prefix: secret.prefix,
      hash: secret.hash,
      scopes: ["*"],
      expiresAt: null,
    },
  });
  if (!result.ok) {
    await index.remove([secret.hash]);
    throw new AppError("internal", {
      cause: new Error(`the directory refused a platform key: ${result.refusal.rule}`),
    });
  }
  return { ...result.value, key: secret.key };
}
