import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

/** A running Stoplight Prism validating proxy. */
export interface Prism {
  origin: string;
  /** Every `Violation: …` line Prism logged so far, in order. */
  violations: string[];
  /** Everything Prism printed, for a failure report. */
  output(): string;
  /** Stops Prism; safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

/**
 * The origin a line of Prism's output says it listens on (`… Prism is listening on
 * http://127.0.0.1:41234`), or undefined for any other line. Only whole lines are read: a
 * chunk can end inside the port's digits.
 */
export function listeningOrigin(line: string): string | undefined {
  return /Prism is listening on (https?:\/\/[^\s/]+)\s*$/.exec(line)?.[1];
}

/** Ends the child and waits for it, with SIGKILL if SIGTERM is not enough. */
function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts `prism proxy <document> <upstream>` on 127.0.0.1 with `--port 0`, so Prism binds a
 * free port itself and the origin is read back from its output. A port picked free here first
 * (a probe socket closed, then Prism started) could be taken by another suite's server in the
 * seconds Prism takes to load the document, and Prism then exited with EADDRINUSE. With
 * `--errors=false`: every request is forwarded as it is, and each request or
 * response the document does not describe is logged as `Violation: …` and
 * listed in the response's `sl-violations` header.
 */
export async function startPrism(root: string, documentPath: string, upstream: string): Promise<Prism> {
  const cli = path.join(root, "node_modules/@stoplight/prism-cli/dist/index.js");
  const args = [cli, "proxy", documentPath, upstream, "--host", "127.0.0.1", "--port", "0", "--errors=false"];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", SCARF_ANALYTICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // If the test process dies without its teardown, Prism must not outlive it.
  const orphanGuard = () => child.kill("SIGKILL");
  process.once("exit", orphanGuard);
  let log = "";
  const violations: string[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Prism did not start within ${START_TIMEOUT_MS} ms:\n${log}`)),
      START_TIMEOUT_MS,
    );
    // One reader per stream, each keeping the line a chunk ended in the middle of.
    const reader = () => {
      let partial = "";
      return (chunk: Buffer) => {
        const text = chunk.toString();
        log += text;
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          const at = line.indexOf("Violation:");
          if (at >= 0) violations.push(line.slice(at).trim());
          const origin = listeningOrigin(line);
          if (origin) {
            clearTimeout(timer);
            resolve(origin);
          }
        }
      };
    };
    child.stdout?.on("data", reader());
    child.stderr?.on("data", reader());
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited with ${code} before it listened:\n${log}`));
    });
  });
  const stop = async () => {
    process.off("exit", orphanGuard);
    await end(child);
  };
  let origin: string;
  try {
    origin = await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, violations, output: () => log, stop };
}
