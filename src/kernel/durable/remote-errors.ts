import { ActorBackingOff } from "../actors/options";
import { SigningKeysError } from "../auth/signing-keys";
import { MissingKeyVersion } from "../crypto/envelope-errors";

/**
 * The typed errors a Durable Object throws to its caller, as the caller's side gets them
 * back. Across RPC workerd keeps an error's message, with the class's name put before it
 * (`SigningKeysError: JWT_SIGNING_KEYS …`), and drops the class and its own properties,
 * marking what is left `remote: true`. A caller that tells errors apart by class (the edge's
 * `normaliseError`, which answers `config_invalid` for a bad variable) would see a bug in
 * each, so `rpcClient` rebuilds the kinds listed here from their message before its caller
 * sees them. Only an error that crossed (remote) is rebuilt; any other passes unchanged.
 */

/** Rebuilds one kind from the message it crossed with (the name taken off); null when the message is not one of its. */
type Reviver = (message: string) => Error | null;

const REVIVERS = new Map<string, Reviver>([
  ["SigningKeysError", (message) => new SigningKeysError(message)],
  ["MissingKeyVersion", (message) => MissingKeyVersion.fromMessage(message)],
  ["ActorBackingOff", (message) => ActorBackingOff.fromMessage(message)],
]);

/** `error` as thrown in the object when it is a listed kind that crossed RPC; otherwise `error` itself. */
export function reviveRemoteError(error: unknown): unknown {
  if (!(error instanceof Error) || (error as { remote?: unknown }).remote !== true) return error;
  const [, name, message] = /^([A-Za-z]\w*): ([\s\S]*)$/.exec(error.message) ?? [];
  const revive = name === undefined ? undefined : REVIVERS.get(name);
  return revive?.(message ?? "") ?? error;
}
