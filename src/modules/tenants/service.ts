import { newId } from "../../kernel/crypto";
import { AppError } from "../../kernel/errors";
import type { Actor } from "../../kernel/outbox";
import type { KeyView } from "../identity/directory/types";
import { keyIndex } from "../identity/key-index";
import { newApiKey } from "../identity/services";
import { forgetTenant } from "./lookup";

/** A tenant as the platform API returns it. */
export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  plan: string;
  created_at: string;
}

/**
 * Creates a tenant: reserves the slug in D1 (unique), indexes the first admin
 * key, initialises the tenant's directory (default roles, the admin key with
 * every permission), then marks the tenant active. A failure part-way undoes
 * the D1 rows, so the slug can be tried again.
 */
export async function createTenant(
  env: Env,
  input: { slug: string; name: string; plan: string; environment: string; actor: Actor; requestId: string | null },
): Promise<TenantRecord & { admin_key: string }> {
  const now = new Date().toISOString();
  const tenant = { id: newId(), slug: input.slug, name: input.name, plan: input.plan };
  const reserved = await env.DB.prepare(
    `insert into tenants (id, slug, name, plan, status, created_at) values (?, ?, ?, ?, 'provisioning', ?)
     on conflict(slug) do nothing`,
  )
    .bind(tenant.id, tenant.slug, tenant.name, tenant.plan, now)
    .run();
  if (reserved.meta.changes !== 1) throw new AppError("conflict", { detail: `the slug "${input.slug}" is taken` });

  const key = await newApiKey(input.environment);
  try {
    await keyIndex(env.DB).add(key.hash, tenant.id, now);
    await env.TENANT_DIRECTORY.getByName(tenant.id).init({
      ctx: { now, actor: input.actor, requestId: input.requestId },
      tenant,
      adminKey: { id: newId(), name: "admin", prefix: key.prefix, hash: key.hash },
    });
    await env.DB.prepare("update tenants set status = 'active' where id = ?").bind(tenant.id).run();
  } catch (error) {
    await keyIndex(env.DB).removeTenant(tenant.id);
    await env.DB.prepare("delete from tenants where id = ?").bind(tenant.id).run();
    throw error;
  }
  forgetTenant(tenant.slug);
  return { ...tenant, created_at: now, admin_key: key.key };
}

/**
 * Recovery: a new key holding every permission (`*`) for an existing tenant,
 * issued by the platform (audited in the tenant's log as the platform's
 * `identity.key.created`). Whatever a tenant revoked, it can be let back in.
 */
export async function issueAdminKey(
  env: Env,
  input: { tenantId: string; name: string; environment: string; actor: Actor; requestId: string | null },
): Promise<KeyView & { key: string }> {
  const now = new Date().toISOString();
  const secret = await newApiKey(input.environment);
  const index = keyIndex(env.DB);
  await index.add(secret.hash, input.tenantId, now);
  const result = await env.TENANT_DIRECTORY.getByName(input.tenantId).createKey({
    ctx: { now, actor: input.actor, requestId: input.requestId },
    key: { id: newId(), name: input.name, prefix: secret.prefix, hash: secret.hash, scopes: ["*"], expiresAt: null },
  });
  if (!result.ok) {
    await index.remove([secret.hash]);
    throw new AppError("internal", {
      cause: new Error(`the directory refused a platform key: ${result.refusal.rule}`),
    });
  }
  return { ...result.value, key: secret.key };
}
