// The file --key-file names, as the tenant commands read it (lib/remote.mjs's tenantKey).
import { statSync } from "node:fs";

/**
 * A warning when the key file at `keyFile` is open to the machine's other users (any group or
 * other bit, as ssh judges a private key's file); it names the file and its mode, never the key.
 * A warning rather than ssh's refusal: the key files of containers are often mounts the operator
 * cannot chmod (Docker's secrets are 0444, Kubernetes' secret volumes 0644 by default) in a
 * machine with no other user, where a refusal would stop every command and protect nothing.
 * Only a regular file: a pipe (`--key-file <(pass show plinth)`) keeps nothing.
 *
 * @returns {import("./cli-stderr.mjs").Warning | undefined}
 */
export function keyFileModeWarning(/** @type {string} */ keyFile) {
  const stat = statSync(keyFile);
  const mode = stat.mode & 0o777;
  if (!stat.isFile() || (mode & 0o077) === 0) return undefined;
  const octal = mode.toString(8).padStart(4, "0");
  return {
    warning: "key_file_open",
    file: keyFile,
    mode: octal,
    detail: `--key-file ${keyFile} is open to other users of this machine (mode ${octal}), who may read the key in it: make it yours alone with chmod 600 ${keyFile}`,
  };
}
