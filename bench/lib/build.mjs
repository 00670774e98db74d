/**
 * Bundling: run `wrangler deploy --dry-run --outdir <dir>` and locate the entry module.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

/** Keep wrangler off the network (telemetry, cf.json); only loopback is used here. */
const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

/** A single build must not hang the run. */
const BUILD_TIMEOUT_MS = 120_000;

/**
 * Run a command, capturing its output, with a hard time limit.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number }} opts
 * @returns {Promise<{ code: number | null, output: string }>}
 */
function run(cmd, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The informative part of wrangler's output: no colours, no npm warnings, and from the
 * first "[ERROR]" on when there is one (warnings come first and would hide it).
 * @param {string} output
 */
function errorPart(output) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes on purpose
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const lines = plain.split("\n").filter((l) => l.trim() && !l.startsWith("npm warn"));
  const first = lines.findIndex((l) => l.includes("[ERROR]"));
  return (first >= 0 ? lines.slice(first) : lines.slice(-15)).join("\n");
}

/**
 * Find the entry module wrangler wrote: `<basename of main>.js`, else the only top-level .js/.mjs.
 * @param {string} outdir
 * @param {string} mainBasename e.g. "index"
 */
function findEntry(outdir, mainBasename) {
  const scripts = readdirSync(outdir).filter((f) => /\.m?js$/.test(f));
  for (const name of [`${mainBasename}.js`, `${mainBasename}.mjs`]) {
    if (scripts.includes(name)) return path.join(outdir, name);
  }
  if (scripts.length === 1) return path.join(outdir, scripts[0]);
  throw new Error(`cannot pick the entry module in ${outdir}: found [${scripts.join(", ")}]`);
}

/**
 * @typedef {object} BuildOptions
 * @property {string} root directory to run wrangler in
 * @property {string} [configPath] `-c` argument (default: root/wrangler.toml)
 * @property {string} main the Worker's source entry (checked to exist; names the output)
 * @property {string} outdir absolute output directory (wrangler resolves a relative one
 *   against the config file's folder)
 */

/**
 * Bundle one Worker with wrangler into `outdir` (emptied first, so a failed build never
 * leaves a stale bundle behind).
 * @param {BuildOptions} worker
 * @returns {Promise<string>} absolute path of the bundled entry module
 */
export async function buildWorker({ root, configPath, main, outdir }) {
  if (!existsSync(main)) throw new Error(`entry ${path.relative(root, main)} does not exist yet`);
  rmSync(outdir, { recursive: true, force: true });
  const args = ["wrangler", "deploy", "--dry-run", "--outdir", outdir];
  if (configPath) args.push("-c", configPath);
  const { code, output } = await run("npx", args, {
    cwd: root,
    env: { ...process.env, ...WRANGLER_ENV },
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  if (code !== 0) throw new Error(`wrangler exited with ${code}:\n${errorPart(output)}`);
  return findEntry(outdir, path.basename(main).replace(/\.[cm]?[jt]sx?$/, ""));
}
