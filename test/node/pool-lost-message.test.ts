// scripts/patch-deps.mjs's fix for a message the pool's worker lost (workers-sdk #15498, a stall
// between two files). A Durable Object still logging when its test file ended had a console RPC
// call pending; vitest rejected it, and the pool's worker could send that rejection from neither
// the object's context nor through the runner object, so it dropped it. vitest's test worker waits
// for every RPC call it made before it says a file ended, without a limit: the next file on that
// worker never ended, and the run hung with no summary once the other worker ran out of files
// (a shuffled full run, seed 6464, 12-07: all 334 files passed, then 8 minutes idle).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { ignoreLostConsoleLine } from "../../vitest.unhandled";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * A workerd suite of its own: one object class, two test workers sharing their workerd across
 * files (as the runtime suite's), and a reporter that answers an object's "held" console lines
 * 6 s late, so that lines logged after a file's last RPC wait began are still unanswered when the
 * file's RPC closes (vitest waits only for the calls made before it began waiting).
 */
const FILES: Record<string, string> = {
  "vitest.config.mjs": `import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { ignoreLostConsoleLine } from ${JSON.stringify(join(ROOT, "vitest.unhandled.ts"))};
export default {
  plugins: [
    cloudflareTest({
      main: "./worker.mjs",
      miniflare: {
        compatibilityDate: "2026-04-20",
        compatibilityFlags: ["nodejs_compat"],
        durableObjects: { LOGGER: "Logger" },
      },
    }),
  ],
  test: {
    include: ["cases/*.test.mjs"],
    maxWorkers: 2,
    isolate: false,
    reporters: ["default", "./held-lines.mjs"],
    onUnhandledError: ignoreLostConsoleLine,
  },
};
`,
  "worker.mjs": `import { DurableObject } from "cloudflare:workers";
export class Logger extends DurableObject {}
export default { fetch: () => new Response("ok") };
`,
  "held-lines.mjs": `export default class {
  async onUserConsoleLog(log) {
    if (log.content.includes("held")) await new Promise((r) => setTimeout(r, 6000));
  }
}
`,
};
// Every file leaves an object logging for 2 s after it ends, so each worker's second file
// follows a file whose line was lost (the order vitest picks does not matter).
const CASE = `import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { it } from "vitest";

it("leaves an object logging past the file's end", async () => {
  await runInDurableObject(env.LOGGER.getByName(crypto.randomUUID()), (_object, state) => {
    state.waitUntil(
      (async () => {
        for (let i = 0; i < 20; i++) {
          console.log("held", i);
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
    );
  });
});
`;
for (const name of ["a", "b", "c", "d"]) FILES[`cases/${name}.test.mjs`] = CASE;

it("a run whose objects log past their files' ends ends, and passes, saying the lines it lost", async () => {
  const dir = mkdtempSync(join(ROOT, "test", "node", ".lost-"));
  try {
    mkdirSync(join(dir, "cases"));
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    const child = spawn(join(ROOT, "node_modules", ".bin", "vitest"), ["run", "--root", dir], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        output += chunk;
      });
    }
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let code: number | null | "hung";
    try {
      // The run takes ~30 s here (6 s per file waiting on its held lines, and workerd's start).
      code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 100_000))]);
    } finally {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is already gone.
      }
    }
    const plain = stripVTControlCharacters(output);
    const summary = plain.match(/Test Files .*/)?.[0] ?? "(no summary: the run hung)";
    // The pool's worker printed this where it dropped a message.
    const dropped = plain.includes("Error sending to pool inside runner");
    // Not hung: the rejection the lost message carried reached vitest, whose onUnhandledError
    // (vitest.unhandled.ts, as the runtime suites use it) said it and did not fail the run on it.
    expect({ code, summary, dropped }).toEqual({ code: 0, summary: "Test Files  4 passed (4)", dropped: false });
    expect(plain).toContain(
      "vitest: a console line of background work still running when its test file ended was lost",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);

describe("the runtime suites' onUnhandledError", () => {
  const teardown = (message: string) => Object.assign(new Error(message), { name: "EnvironmentTeardownError" });

  it("ignores only a console line's call rejected at a file's end", () => {
    const quiet = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(ignoreLostConsoleLine(teardown('[vitest-worker]: Closing rpc while "onUserConsoleLog" was pending'))).toBe(
        false,
      );
      expect(quiet).toHaveBeenCalledTimes(1);
    } finally {
      quiet.mockRestore();
    }
  });

  it("leaves every other error to fail the run: another call's teardown, any other error", () => {
    expect(ignoreLostConsoleLine(teardown('[vitest-worker]: Closing rpc while "resolve" was pending'))).toBeUndefined();
    expect(ignoreLostConsoleLine(new Error('Closing rpc while "onUserConsoleLog" was pending'))).toBeUndefined();
    expect(ignoreLostConsoleLine(new TypeError("x is not a function"))).toBeUndefined();
  });
});
