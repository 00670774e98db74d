import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { PersonalRecords } from "../../src/modules/identity/directory/personal-data";
import type { In, Out } from "./base";
import { DirectoryPasswordReset } from "./password-reset";

/**
 * A user's export (docs/identity.md#what-an-export-holds): what the directory holds about them,
 * read in one call so the parts agree with each other. Reads only; the Worker asked the person.
 */
export class DirectoryPersonalData extends DirectoryPasswordReset {
  private readonly personal = new PersonalRecords(this.store, this.invitations);

  personalData(input: In<"personalData">): Out<"personalData"> {
    const { userId, now } = rpcArgs(DirectoryRpc, "personalData", input);
    return this.personal.of(userId, now);
  }
}
