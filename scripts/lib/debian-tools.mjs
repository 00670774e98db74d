// The browser tests drive Debian's Chromium (never a downloaded one). On a
// machine without it, `npm test` installs it with apt when it can (root, apt
// present), or says how.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

/** Ensures Chromium is installed; returns a message when it cannot be. */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return null;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = existsSync("/usr/bin/apt-get");
  if (!root || !apt) {
    return `${CHROMIUM} is missing; install Debian's chromium (sudo apt-get install -y chromium) and run npm test again`;
  }
  console.log("installing Debian's chromium for the browser tests (apt-get)…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
  return existsSync(CHROMIUM) ? null : `apt-get ran but ${CHROMIUM} is still missing`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problem = ensureChromium();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  console.log(`chromium: ${CHROMIUM}`);
}
