import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { SealedValues } from "../../src/modules/identity/directory/sealed";
import type { In, Out } from "./base";
import { DirectoryTwoFactor } from "./two-factor";

/**
 * The directory's part in retiring an ENCRYPTION_KEYS version: its sealed
 * values (SSO client secret, TOTP secrets) listed as ciphertexts, and each
 * re-sealed one swapped in only while the stored value is still the one read.
 * The directory never opens a secret: the Worker re-seals.
 */
export class DirectorySealed extends DirectoryTwoFactor {
  protected readonly sealed = new SealedValues(this.store);

  sealedValues(input: In<"sealedValues">): Out<"sealedValues"> {
    const { after, limit } = rpcArgs(DirectoryRpc, "sealedValues", input);
    return this.sealed.page(after, limit);
  }

  resealValues(input: In<"resealValues">): Out<"resealValues"> {
    const { reseals } = rpcArgs(DirectoryRpc, "resealValues", input);
    return this.sealed.replace(reseals);
  }
}
