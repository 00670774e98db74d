/**
 * The crypto core for Workers: the only importer of a `.wasm` file in the repository.
 * workerd refuses to compile WebAssembly from bytes at run time, so the module is
 * imported (compiled at deploy/load time) and only instantiated here, lazily, on the
 * first call: one instance per isolate, a documented per-isolate cache.
 *
 * @example
 * import { core } from "../../wasm";
 * const sealed = core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
 */

import { type CryptoCore, createCore } from "./core";
import coreModule from "./core.wasm";

export type { Argon2Params, Blake2bOptions, CryptoCore } from "./core";
export { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from "./core";

/** A fresh instance of the core with its own linear memory (the core imports nothing). */
export function instantiateCore(): WebAssembly.Instance {
  return new WebAssembly.Instance(coreModule, {});
}

/** The isolate's crypto core, instantiated on first use. */
export const core: CryptoCore = createCore(instantiateCore);
