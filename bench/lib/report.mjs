/**
 * Reporting: machine facts, medians, the results table and REPORT.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { storageDir } from "./serve.mjs";

/**
 * @param {number[]} xs
 * @returns {number} median (mean of the middle two for an even count); NaN if empty
 */
export function median(xs) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (q in 0..1); NaN if empty. @param {number[]} xs @param {number} q */
export function percentile(xs, q) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

/**
 * Version of an installed package, looking in the root node_modules and then nested ones.
 * @param {string} root
 * @param {string} name
 * @param {string[]} [nestedUnder] packages whose own node_modules may hold `name`
 */
function pkgVersion(root, name, nestedUnder = []) {
  const candidates = [
    path.join(root, "node_modules", name, "package.json"),
    ...nestedUnder.map((p) => path.join(root, "node_modules", p, "node_modules", name, "package.json")),
  ];
  const found = candidates.find((p) => existsSync(p));
  return found ? JSON.parse(readFileSync(found, "utf8")).version : "unknown";
}

/** @param {string} root */
function gitCommit(root) {
  try {
    /** @type {import("node:child_process").ExecFileSyncOptionsWithStringEncoding} */
    const opts = { cwd: root, stdio: ["ignore", "pipe", "ignore"], encoding: "utf8" };
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], opts).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], opts).trim() !== "";
    return dirty ? `${sha} (working tree has uncommitted changes)` : sha;
  } catch {
    return "unavailable (no commits yet or not a git checkout)";
  }
}

function osName() {
  try {
    const m = readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)"?/m);
    if (m) return `${m[1]}, ${os.type()} ${os.release()}`;
  } catch {}
  return `${os.type()} ${os.release()}`;
}

/** @param {string} root */
export function machineInfo(root) {
  const cpus = os.cpus();
  return {
    load: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" / "),
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: osName(),
    node: process.version,
    miniflare: pkgVersion(root, "miniflare"),
    workerd: pkgVersion(root, "workerd", ["miniflare"]),
    wrangler: pkgVersion(root, "wrangler"),
    autocannon: pkgVersion(root, "autocannon"),
    commit: gitCommit(root),
    storage: storageDir()
      ? `memory (tmpfs ${storageDir()}: on a disk, SQLite's syncs on workerd's one thread cost the write scenarios 20–40%)`
      : "the system's temporary directory (no tmpfs found: the write scenarios pay SQLite's disk syncs)",
  };
}

/**
 * @typedef {object} Row one scenario, aggregated over rounds
 * @property {string} name
 * @property {boolean} baseline
 * @property {string | null} skipped reason the scenario did not run
 * @property {number} rps median req/s
 * @property {number} p50 median p50 ms
 * @property {number} p99 median p99 ms
 * @property {number[]} rpsRounds req/s of each round
 * @property {number[]} p99Rounds p99 of each round
 * @property {number} non2xx summed over rounds
 * @property {number} errors summed over rounds
 */

/**
 * One Row per scenario from its per-round results.
 * @param {{ name: string, baseline?: boolean }[]} scenarios
 * @param {Map<string, import("./load.mjs").LoadResult[]>} results
 * @param {Map<string, string>} skipped scenario name -> reason
 * @returns {Row[]}
 */
export function rowsOf(scenarios, results, skipped) {
  return scenarios.map((s) => {
    const rs = results.get(s.name) ?? [];
    return {
      name: s.name,
      baseline: Boolean(s.baseline),
      skipped: skipped.get(s.name) ?? null,
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      rpsRounds: rs.map((r) => r.rps),
      p99Rounds: rs.map((r) => r.p99),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
    };
  });
}

/**
 * Notes worth reading after a run: non-2xx status codes and connection errors per scenario,
 * workerd's idle-timeout sweeps ({@link import("./load.mjs").idleSweeps}), and Worker log lines.
 * @param {{ name: string }[]} scenarios
 * @param {Map<string, import("./load.mjs").LoadResult[]>} results
 * @param {Map<string, { logs: import("./serve.mjs").Logs }>} servers
 */
export function runNotes(scenarios, results, servers) {
  const notes = [];
  for (const s of scenarios) {
    const codes = new Set((results.get(s.name) ?? []).flatMap((r) => Object.keys(r.statuses)));
    const odd = [...codes].filter((code) => !code.startsWith("2"));
    if (odd.length) notes.push(`${s.name}: non-2xx status codes seen: ${odd.join(", ")}`);
    /** @type {Record<string, number>} */
    const kinds = {};
    for (const r of results.get(s.name) ?? []) {
      for (const [k, n] of Object.entries(r.errorKinds)) kinds[k] = (kinds[k] ?? 0) + n;
    }
    const list = Object.entries(kinds).map(([k, n]) => `${n}× ${k}`);
    if (list.length) notes.push(`${s.name}: connection errors: ${list.join(", ")}`);
    const sweeps = (results.get(s.name) ?? []).flatMap((r) => r.sweeps ?? []);
    if (sweeps.length) {
      const at = sweeps.map((w) => `${w.count} at ${(w.atMs / 1000).toFixed(1)} s`).join(", ");
      notes.push(
        `${s.name}: workerd closed its idle keep-alive connections at once ${sweeps.length} time(s) (${at} into a measurement): resets of requests it never read, left out of the errors (bench/README.md, "Connection errors")`,
      );
    }
  }
  for (const [name, { logs }] of servers) {
    if (logs.count === 0) continue;
    const kinds = [...logs.kinds].sort((a, b) => b[1].count - a[1].count);
    notes.push(
      `${name} Worker wrote ${logs.count} log line(s) during the run: ${kinds.map(([k, { count }]) => `${count}× ${k}`).join(", ")}`,
      ...kinds.slice(0, 5).map(([k, { first }]) => `  first "${k}": ${first}`),
    );
  }
  return notes;
}

/**
 * An integer knob from the environment, bounded so a typo cannot make the run endless.
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 * @param {number} max
 */
export function knob(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

export const fmt = (/** @type {number} */ x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");

/**
 * Markdown table with padded, aligned columns (readable on a terminal, and already in the
 * shape Biome's markdown formatter gives it, so a fresh REPORT.md passes `npm run lint`).
 * @param {string[]} header
 * @param {string[][]} body
 * @param {boolean[]} right which columns are right-aligned
 */
export function mdTable(header, body, right) {
  const widths = header.map((h, i) => Math.max(3, h.length, ...body.map((row) => row[i].length)));
  const line = (/** @type {string[]} */ cells) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const rule = widths.map((w, i) => (right[i] ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [line(header), `| ${rule.join(" | ")} |`, ...body.map(line)].join("\n");
}

/**
 * @param {Row[]} rows
 * @returns {string} markdown table
 */
export function table(rows) {
  const base = rows.find((r) => r.baseline && !r.skipped);
  const body = rows.map((r) => {
    const name = `${r.name}${r.baseline ? " (baseline)" : ""}`;
    if (r.skipped) return [name, "skipped", "", "", "", "", ""];
    const bad = r.non2xx + r.errors > 0 ? " FAILED" : "";
    return [
      name,
      fmt(r.rps),
      fmt(r.p50, 1),
      fmt(r.p99, 1),
      `${r.non2xx} / ${r.errors}${bad}`,
      base ? `${fmt(r.rps / base.rps, 2)}×` : "n/a",
      base ? `${fmt(r.p99 / base.p99, 2)}×` : "n/a",
    ];
  });
  const header = ["scenario", "req/s", "p50 ms", "p99 ms", "non-2xx / errors", "req/s vs baseline", "p99 vs baseline"];
  return mdTable(header, body, [false, true, true, true, true, true, true]);
}

/**
 * Round-to-round spread (max - min) as a fraction of the median.
 * @param {number[]} xs
 * @param {number} mid
 */
const spread = (xs, mid) => (xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / mid : 0);

/**
 * A plain reading of the numbers, generated from them (so it stays true on every run).
 * @param {Row[]} rows
 * @param {{ rounds: number }} method
 */
export function reading(rows, { rounds }) {
  const base = rows.find((r) => r.baseline && !r.skipped);
  const parts = [];
  if (!base) return "The baseline did not run, so no ratios can be given.";
  parts.push(
    `The bare Hono baseline served ${fmt(base.rps)} req/s (p99 ${fmt(base.p99, 1)} ms) on this machine under Miniflare.`,
  );
  for (const r of rows) {
    if (r === base) continue;
    if (r.skipped) {
      parts.push(`"${r.name}" did not run (${r.skipped}).`);
      continue;
    }
    const pct = (r.rps / base.rps) * 100;
    parts.push(
      `"${r.name}" reached ${fmt(pct)}% of the baseline's throughput with ${fmt(r.p99 / base.p99, 2)}× its p99` +
        (r.non2xx + r.errors > 0
          ? `, but it is NOT a valid measurement: ${r.non2xx} non-2xx responses and ${r.errors} errors were counted.`
          : "."),
    );
  }
  const ran = rows.filter((r) => !r.skipped);
  const rpsNoise = Math.max(...ran.map((r) => spread(r.rpsRounds, r.rps)));
  const p99Noise = Math.max(...ran.map((r) => spread(r.p99Rounds, r.p99)));
  parts.push(
    rounds > 1
      ? `Across ${rounds} interleaved rounds a scenario's req/s varied by up to ${fmt(rpsNoise * 100)}% of its median and its p99 by up to ${fmt(p99Noise * 100)}%, so differences smaller than that are noise; p99 is the least stable figure here.`
      : "Only one round ran, so there is no estimate of the noise; treat the numbers as a smoke test.",
  );
  parts.push(
    "Miniflare adds its own entry Worker and runs the load generator on the same cores, so absolute numbers are far below production and below `workerd serve`; only the ratios to the baseline measured in the same run are meaningful, and a ratio near 1 means the application's own per-request work is small next to the runtime's.",
  );
  return parts.join(" ");
}

/**
 * @param {string} file REPORT.md path
 * @param {{ date: string, machine: ReturnType<typeof machineInfo>,
 *   method: { connections: number, duration: number, rounds: number, warmup: number },
 *   rows: Row[], methodNotes?: string[], sections?: string[], notes: string[] }} data
 *   methodNotes: further bullets for the Method section (e.g. how scenarios are set up);
 *   sections: further markdown sections after the results (e.g. the login series);
 *   notes: problems worth reading (failed builds or setups, pre-flight failures, log lines...)
 */
export function writeReport(file, { date, machine, method, rows, methodNotes = [], sections = [], notes }) {
  const m = machine;
  const md = `# plinth benchmark report

Date: ${date}

## Machine

- CPU: ${m.cpu}, ${m.cores} cores
- Memory: ${m.memory}
- Load average (1 / 5 / 15 min) before the run: ${m.load} (other processes share the cores)
- OS: ${m.os}
- Node ${m.node}; miniflare ${m.miniflare}; workerd ${m.workerd}; wrangler ${m.wrangler}; autocannon ${m.autocannon}
- Git commit: ${m.commit}

## Method

- Each Worker is bundled with \`wrangler deploy --dry-run\` and served by the Miniflare Node API on its own 127.0.0.1 port (storage not persisted, in ${m.storage}; plinth gets its D1, Durable Object, queue and R2 bindings, its migrations, and secrets generated for the run). Not \`wrangler dev\`.
- Load: autocannon in the same Node process, ${method.connections} connections, ${method.duration} s per measurement, after a ${method.warmup} s warm-up per scenario. autocannon records latency in whole milliseconds.
- ${method.rounds} round(s); in each round every scenario runs once, in rotating order, so drift affects all alike. Table values are the median over rounds (req/s, p50, p99); non-2xx and errors are summed over rounds.
- Ratios compare with the baseline from the same run (run-to-run noise on this kind of machine is about ±50%).
${methodNotes.map((line) => `- ${line}\n`).join("")}
## Results

${table(rows)}

${reading(rows, method)}
${sections.map((s) => `\n${s}`).join("")}${notes.length ? `\n## Notes\n\n\`\`\`text\n${notes.join("\n")}\n\`\`\`\n` : ""}`;
  writeFileSync(file, md);
}
