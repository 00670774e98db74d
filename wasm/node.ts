/**
 * The crypto core for Node (the CLI, benchmarks, Node tests): Node may compile
 * WebAssembly from bytes, so the module is read from wasm/core.wasm and compiled here.
 * The wrapper is the same as in Workers (wasm/core.ts).
 *
 * Plain Node cannot run this TypeScript file directly; scripts bundle it first (see
 * bench/wasm.mjs) and then pass the module's path, since a bundle no longer sits beside it.
 *
 * @example
 * import { loadCore } from "../wasm/node";
 * const core = loadCore();
 * const digest = core.blake2b(new TextEncoder().encode("abc"));
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CryptoCore, createCore } from "./core";

export type { Argon2Params, Blake2bOptions, CryptoCore } from "./core";
export { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from "./core";

/** The default location of the compiled core, beside this file. */
export const CORE_WASM_PATH = join(dirname(fileURLToPath(import.meta.url)), "core.wasm");

// The project's global types are workerd's, where WebAssembly.Module cannot be
// constructed from bytes; Node can.
const NodeWasmModule = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;

/** Compiles the core from `path` (wasm/core.wasm by default). */
export function compileCore(path: string = CORE_WASM_PATH): WebAssembly.Module {
  return new NodeWasmModule(readFileSync(path));
}

/**
 * A crypto core over instances of the module at `path`; `onInstance` sees each instance
 * made (tests use it to inspect linear memory).
 */
export function loadCore(
  path: string = CORE_WASM_PATH,
  onInstance?: (instance: WebAssembly.Instance) => void,
): CryptoCore {
  const module = compileCore(path);
  return createCore(() => {
    const instance = new WebAssembly.Instance(module, {});
    onInstance?.(instance);
    return instance;
  });
}
