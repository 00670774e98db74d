import { addCounts, addOutcomes, countVersions } from "../../kernel/crypto/key-versions";
import { resealStale } from "../../kernel/crypto/reseal";
import { tenantEnvelopeOf } from "../../kernel/crypto/tenant-envelope";
import type { ModuleRuntime, SealedFields } from "../../kernel/modules/types";
import { directory } from "./directory/contract";
import { type DirectorySealed, SEALED_PAGE_MAX } from "./directory/sealed";
import { SSO_SECRET_FIELD } from "./sso/secrets";
import { SSO_STATE_FIELD } from "./sso/state";
import { totpField } from "./two-factor";

const KINDS = ["identity.sso.client_secret", "identity.totp"] as const;

/** The envelope field (associated data) a directory value was sealed under. */
const fieldOf = (v: DirectorySealed) => (v.kind === "identity.totp" ? totpField(v.key) : SSO_SECRET_FIELD);

/** Every page of a tenant's directory's sealed values, in turn (a tenant may have thousands of TOTP users). */
async function* pagesOf(runtime: ModuleRuntime, tenantId: string, limit: number): AsyncGenerator<DirectorySealed[]> {
  const dir = directory(runtime.env, tenantId);
  let after: string | undefined;
  for (;;) {
    const { values, next } = await dir.sealedValues({ limit, ...(after === undefined ? {} : { after }) });
    yield values;
    if (next === null) return;
    after = next;
  }
}

/**
 * The identity module's sealed values (ModuleDef.sealed): the SSO client secret and
 * each user's TOTP secret, held by the tenant's directory. The Worker re-seals them, as
 * it seals and opens them for sign-in (the directory never sees a secret in the clear),
 * and the directory swaps each re-sealed one in while it still holds what was read, a
 * page at a time (one transaction each). `pageSize` is the contract's most but in tests.
 */
export function directorySealed(pageSize = SEALED_PAGE_MAX): SealedFields {
  return {
    kinds: KINDS,
    // A sign-in under way, sealed into its `state` (sso/state.ts) and opened by its callback
    // within 10 minutes: stored nowhere, so nothing to count or re-seal.
    transient: [SSO_STATE_FIELD],
    async versions(tenantId, runtime) {
      const counts = [countVersions([], KINDS)];
      for await (const values of pagesOf(runtime, tenantId, pageSize)) counts.push(countVersions(values, KINDS));
      return addCounts(...counts);
    },
    async reencrypt(tenantId, runtime) {
      const dir = directory(runtime.env, tenantId);
      const outcomes = [];
      for await (const values of pagesOf(runtime, tenantId, pageSize)) {
        const stale = values.map((v) => ({ ...v, field: fieldOf(v) }));
        const reseals = await resealStale(tenantEnvelopeOf(runtime), tenantId, stale);
        if (reseals.length === 0) continue;
        const slice = reseals.map(({ kind, key, from, to }) => ({ kind, key, from, to }));
        outcomes.push(await dir.resealValues({ reseals: slice }));
      }
      return addOutcomes(...outcomes);
    },
  };
}

export const identitySealed: SealedFields = directorySealed();
