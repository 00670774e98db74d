import { addOutcomes, countVersions, NO_RESEAL, type ResealOutcome } from "../../kernel/crypto/key-versions";
import { resealStale } from "../../kernel/crypto/reseal";
import { tenantEnvelopeOf } from "../../kernel/crypto/tenant-envelope";
import type { ModuleRuntime, SealedFields } from "../../kernel/modules/types";
import { endpointActor, registry } from "./contract";
import { secretField } from "./secrets";

/** The registry's sealed secrets, and each endpoint actor's copy of its endpoint's (what it signs with). */
const KINDS = ["webhooks.secret", "webhooks.secret.delivery_copy"] as const;

async function stored(runtime: ModuleRuntime, tenantId: string) {
  const secrets = await registry(runtime.env, tenantId).sealedSecrets({});
  // Only a reached endpoint's actor may hold a copy: another's would be opened, to say it has none.
  const copied = secrets.filter((s) => s.reached).map((s) => s.endpoint_id);
  return { secrets, endpoints: [...new Set(copied)] };
}

/** Re-seals one endpoint actor's copy, which it swaps in itself. */
async function resealCopy(runtime: ModuleRuntime, tenantId: string, endpointId: string): Promise<ResealOutcome> {
  const actor = endpointActor(runtime.env, tenantId, endpointId);
  const copies = (await actor.sealedSecrets({})).map((sealed) => ({ sealed, field: secretField(endpointId) }));
  const reseals = await resealStale(tenantEnvelopeOf(runtime), tenantId, copies);
  return reseals.length === 0
    ? NO_RESEAL
    : actor.resealSecrets({ reseals: reseals.map(({ from, to }) => ({ from, to })) });
}

/**
 * The webhooks module's sealed values (ModuleDef.sealed): endpoint signing secrets, held
 * by the tenant's WebhookRegistry (their single writer) and copied to each endpoint's
 * actor, which signs with its copy. Both are re-sealed, the registry first, each by the
 * object that holds it; a secret rotated meanwhile is left as it is.
 */
export const webhooksSealed: SealedFields = {
  kinds: KINDS,
  async versions(tenantId, runtime) {
    const { secrets, endpoints } = await stored(runtime, tenantId);
    const copies = await Promise.all(endpoints.map((id) => endpointActor(runtime.env, tenantId, id).sealedSecrets({})));
    return countVersions(
      [
        ...secrets.map((s) => ({ kind: "webhooks.secret", sealed: s.sealed })),
        ...copies.flat().map((sealed) => ({ kind: "webhooks.secret.delivery_copy", sealed })),
      ],
      KINDS,
    );
  },
  async reencrypt(tenantId, runtime) {
    const { secrets, endpoints } = await stored(runtime, tenantId);
    const values = secrets.map((s) => ({ ...s, field: secretField(s.endpoint_id) }));
    const reseals = await resealStale(tenantEnvelopeOf(runtime), tenantId, values);
    const outcomes = [
      reseals.length === 0
        ? NO_RESEAL
        : await registry(runtime.env, tenantId).resealSecrets({
            reseals: reseals.map(({ endpoint_id, from, to }) => ({ endpoint_id, from, to })),
          }),
    ];
    for (const id of endpoints) outcomes.push(await resealCopy(runtime, tenantId, id));
    return addOutcomes(...outcomes);
  },
};
