import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Runs `node bench/wasm.mjs` (the WASM crypto core vs @noble, in its own Node process so
 * that nothing else shares its event loop) and returns its report as a section of
 * bench/REPORT.md: the same table bench/WASM-REPORT.md holds, measured in this run.
 * @param {{ root: string, notes: string[] }} options
 * @returns {Promise<{ section: string } | null>} null when it failed (see notes)
 */
export async function wasmPhase({ root, notes }) {
  const script = path.join(root, "bench", "wasm.mjs");
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", () => resolve(-1));
    child.on("exit", (c) => resolve(c ?? -1));
  });
  if (code !== 0) {
    notes.push(`bench/wasm.mjs exited with ${code}; no WASM table in this report`);
    return null;
  }
  const report = readFileSync(path.join(root, "bench", "WASM-REPORT.md"), "utf8");
  const body = report.replace(/^# .*\n/, "").trim();
  return { section: `## WebAssembly crypto core vs @noble (Node micro-benchmark)\n\n${body}\n` };
}
