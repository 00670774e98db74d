import { addOutcomes, countVersions } from "../../kernel/crypto/key-versions";
import { resealStale } from "../../kernel/crypto/reseal";
import type { SealedFields } from "../../kernel/modules/types";
import { directory } from "./directory/contract";
import type { DirectorySealed } from "./directory/sealed";
import { runtimeEnvelope } from "./key-material";
import { SSO_SECRET_FIELD } from "./sso/secrets";
import { totpField } from "./two-factor";

const KINDS = ["identity.sso.client_secret", "identity.totp"] as const;
/** Re-sealed values per directory call: the contract's bound (contract.ts, `resealValues`). */
const RESEALS_PER_CALL = 500;

/** The envelope field (associated data) a directory value was sealed under. */
const fieldOf = (v: DirectorySealed) => (v.kind === "identity.totp" ? totpField(v.key) : SSO_SECRET_FIELD);

/**
 * The identity module's sealed values (ModuleDef.sealed): the SSO client secret and
 * each user's TOTP secret, held by the tenant's directory. The Worker re-seals them, as
 * it seals and opens them for sign-in (the directory never sees a secret in the clear),
 * and the directory swaps each re-sealed one in while it still holds what was read.
 */
export const identitySealed: SealedFields = {
  kinds: KINDS,
  async versions(tenantId, runtime) {
    return countVersions(await directory(runtime.env, tenantId).sealedValues({}), KINDS);
  },
  async reencrypt(tenantId, runtime) {
    const dir = directory(runtime.env, tenantId);
    const values = (await dir.sealedValues({})).map((v) => ({ ...v, field: fieldOf(v) }));
    const reseals = await resealStale(runtimeEnvelope(runtime), tenantId, values);
    const outcomes = [];
    // In slices the contract allows (a tenant may have thousands of TOTP users); each slice is one transaction.
    for (let i = 0; i < reseals.length; i += RESEALS_PER_CALL) {
      const slice = reseals.slice(i, i + RESEALS_PER_CALL);
      outcomes.push(
        await dir.resealValues({ reseals: slice.map(({ kind, key, from, to }) => ({ kind, key, from, to })) }),
      );
    }
    return addOutcomes(...outcomes);
  },
};
