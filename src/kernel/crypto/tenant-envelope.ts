import type { Context } from "hono";
import { tenantOf } from "../auth/guards";
import { tenantRegistry } from "../auth/tenant-registry";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { providerOf } from "../modules/providers";
import type { ModuleDef } from "../modules/types";
import { wasmAead } from "./aead";
import { Envelope, parseMasterKeys, type TenantSeeds } from "./envelope";
import { registeredSeeds } from "./registered-seeds";
import { declaredSealedKinds, type SealedKinds } from "./sealed-kinds";

/**
 * The tenant envelope as the kernel offers it to every module: master keys from ENCRYPTION_KEYS
 * (`config.encryptionKeys`), each tenant's seed from the one module that keeps tenants' key
 * material (`ModuleDef.auth.tenant_seeds`), XChaCha20-Poly1305 from the WASM core. A module
 * seals a field with it without naming, or importing, the module that keeps the seeds, as it
 * finds a tenant with `findTenant` (kernel/auth/tenant-registry.ts).
 */

/**
 * Where each tenant's seed is kept: what the module that keeps tenants' key material provides
 * (`ModuleDef.auth.tenant_seeds`; identity's directory). Destroying a tenant's seed shreds
 * everything sealed for it.
 */
export type TenantSeedSource = (env: Env, clock: Clock) => TenantSeeds;

/** What the envelope is built from outside a request: a job, a subscriber, a Durable Object. */
export interface EnvelopeRuntime {
  env: Env;
  config: Pick<Config, "encryptionKeys">;
  clock: Clock;
  /** The registered modules: the seed source is whichever provides it. */
  modules: readonly ModuleDef[];
}

/** Why the tenant envelope cannot be built: the deployment, not the value, is at fault. */
export type EnvelopeGap = "encryption_keys_missing" | "no_seed_source";

/** Thrown when ENCRYPTION_KEYS is not configured, or no registered module provides tenant seeds. */
export class TenantEnvelopeUnavailable extends Error {
  override name = "TenantEnvelopeUnavailable";
  constructor(readonly gap: EnvelopeGap) {
    super(
      gap === "encryption_keys_missing"
        ? "ENCRYPTION_KEYS is not configured: tenant data cannot be sealed or opened"
        : "no registered module provides tenant seeds (ModuleDef.auth.tenant_seeds): tenant data cannot be sealed or opened",
    );
  }
}

/** The seed source the one module that keeps it provides, if any (the registry refuses a second). */
export const tenantSeedSource = (modules: readonly ModuleDef[]): TenantSeedSource | undefined =>
  providerOf(modules, "tenant_seeds");

function envelopeFrom(keys: string | undefined, seeds: (() => TenantSeeds) | undefined, kinds: SealedKinds): Envelope {
  if (!keys) throw new TenantEnvelopeUnavailable("encryption_keys_missing");
  if (!seeds) throw new TenantEnvelopeUnavailable("no_seed_source");
  return new Envelope(wasmAead, parseMasterKeys(keys), seeds(), kinds);
}

/**
 * The tenant envelope for code with no request: a job, a subscriber, a module's `sealed`
 * re-encryption (`tenantEnvelopeOf(runtime)`), or a Durable Object built over the platform
 * (`tenantEnvelopeOf({ env: this.env, config, clock, modules: platform.modules })`). Throws
 * `TenantEnvelopeUnavailable` without ENCRYPTION_KEYS or a seed source; a malformed
 * ENCRYPTION_KEYS throws a message that never holds key material. It seals only the kinds
 * `runtime.modules` declare (`ModuleDef.sealed`): another throws `UndeclaredSealedKind`.
 * It seals and opens only for tenants the registry holds (registered-seeds.ts): an id it never
 * held throws `UnregisteredTenant` before any tenant directory is opened; a deleted tenant's
 * (being erased, or erased) throws `KeyMaterialDestroyed`.
 *
 * @example
 * // The field names the record too (docs/modules.md), so a ciphertext copied to another comment does not open.
 * const text = await tenantEnvelopeOf(rt).decryptText(event.tenant_id, `tickets.comment.text/${event.data.comment_id}`, event.data.text);
 */
export function tenantEnvelopeOf(runtime: EnvelopeRuntime): Envelope {
  const { env, config, clock, modules } = runtime;
  const source = tenantSeedSource(modules);
  const seeds = source && (() => registeredSeeds(env, source(env, clock), tenantRegistry(modules)));
  return envelopeFrom(config.encryptionKeys, seeds, declaredSealedKinds(modules));
}

/**
 * The tenant envelope bound to one tenant: what a route gets, so that nothing a request carries
 * (a path parameter, a body field) can name the tenant a value is sealed for or opened as, as
 * `memberOf(c, userId)` looks in the request's tenant only. Code with no request, which serves
 * many tenants, takes the unbound `Envelope` from `tenantEnvelopeOf(runtime)`.
 */
export interface TenantSealer {
  /** The tenant every value is sealed for and opened as. */
  readonly tenantId: string;
  /** Seals `plaintext` as this tenant's `field` (name the record in it: docs/modules.md). */
  encrypt(field: string, plaintext: Uint8Array | string): Promise<string>;
  /** Opens this tenant's `field`; throws as `Envelope.decrypt` does (moved, tampered, shredded). */
  decrypt(field: string, stored: string): Promise<Uint8Array>;
  /** `decrypt` as UTF-8 text. */
  decryptText(field: string, stored: string): Promise<string>;
}

/** `envelope` bound to `tenantId` (a route's is bound to the request's tenant by `tenantEnvelopeOfRequest`). */
export const sealerFor = (envelope: Envelope, tenantId: string): TenantSealer => ({
  tenantId,
  encrypt: (field, plaintext) => envelope.encrypt(tenantId, field, plaintext),
  decrypt: (field, stored) => envelope.decrypt(tenantId, field, stored),
  decryptText: (field, stored) => envelope.decryptText(tenantId, field, stored),
});

/**
 * The tenant envelope for a route, bound to the request's tenant (`tenantOf(c)`: 400
 * `tenant_required` on a request without one), from the request's config, clock and the seed
 * source `init` put on the context. Without ENCRYPTION_KEYS the client is told `503 unavailable`
 * naming the variable, in `unavailable`'s words when given (what the feature needs the keys for);
 * without a seed source it is a build's bug: it throws `TenantEnvelopeUnavailable`, a 500. It
 * seals only the kinds the platform's modules declare (`ModuleDef.sealed`, put on the context by
 * `init`): another is a module's bug, `UndeclaredSealedKind`, a 500 whose log names the kind.
 *
 * @example
 * const sealed = await tenantEnvelopeOfRequest(c).encrypt(`tickets.comment.text/${commentId}`, body.text);
 */
export function tenantEnvelopeOfRequest(
  c: Context<AppEnv>,
  unavailable = "this needs ENCRYPTION_KEYS (the master keys that seal tenant data); see docs/configuration.md",
): TenantSealer {
  const tenantId = tenantOf(c).id;
  const keys = c.get("config").encryptionKeys;
  if (!keys) throw new AppError("unavailable", { detail: unavailable });
  // No registry read here: the request's tenant was resolved live (tenantOf) before any route ran.
  const source = c.get("tenantSeeds");
  const seeds = source && (() => source(c.env, c.get("clock")));
  return sealerFor(envelopeFrom(keys, seeds, c.get("sealedKinds")), tenantId);
}
