// The Node tests drive real third-party clients from Debian, never downloaded
// binaries: Chromium (test/node/browser.test.ts) and Prometheus' promtool
// (test/node/metrics-promtool.test.ts). On a machine without them, `npm test`
// installs them with apt when it can (root, apt present), or says how.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** What the tests need: the Debian package and the binary it provides. */
export const TOOLS = [
  { pkg: "chromium", bin: "/usr/bin/chromium", recommends: true },
  // Only its promtool is used; without recommends apt skips the web console and exporters.
  { pkg: "prometheus", bin: "/usr/bin/promtool", recommends: false },
];

/** Ensures every tool is installed; returns a message when one cannot be. */
export function ensureTools(tools = TOOLS) {
  const missing = tools.filter((t) => !existsSync(t.bin));
  if (missing.length === 0) return null;
  const pkgs = missing.map((t) => t.pkg);
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = existsSync("/usr/bin/apt-get");
  if (!root || !apt) {
    return `${missing.map((t) => t.bin).join(", ")} missing; install Debian's ${pkgs.join(" ")} (sudo apt-get install -y --no-install-recommends ${pkgs.join(" ")}) and run npm test again`;
  }
  console.log(`installing Debian's ${pkgs.join(", ")} for the Node tests (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  for (const t of missing) {
    const args = ["install", "-y", "-qq", ...(t.recommends ? [] : ["--no-install-recommends"]), t.pkg];
    execFileSync("apt-get", args, { stdio: "inherit", env });
  }
  const still = missing.filter((t) => !existsSync(t.bin));
  return still.length === 0 ? null : `apt-get ran but ${still.map((t) => t.bin).join(", ")} still missing`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problem = ensureTools();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  for (const t of TOOLS) console.log(`${t.pkg}: ${t.bin}`);
}
