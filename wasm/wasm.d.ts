// wrangler (esbuild's CompiledWasm rule) and the workers vitest pool turn a `.wasm`
// import into a compiled WebAssembly.Module. Only wasm/index.ts imports one.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
