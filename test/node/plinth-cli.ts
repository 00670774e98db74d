// Runs the `plinth` CLI as an operator's shell would, for the Node tests of its commands.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:http";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** What a run of the CLI left: its exit status and both streams. */
export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `plinth args` from the repository root with only the keys and URL given in `env`:
 * PLATFORM_ROOT_KEY, PLINTH_KEY and PLINTH_URL of the test's own environment are not inherited.
 * `started` is handed the process once spawned (to signal it midway, as Ctrl-C would).
 */
export function plinth(
  args: string[],
  env: Record<string, string> = {},
  started?: (child: ChildProcess) => void,
): Promise<Ran> {
  const base = { ...process.env };
  for (const name of ["PLATFORM_ROOT_KEY", "PLINTH_KEY", "PLINTH_URL"]) delete base[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts", "plinth.mjs"), ...args], {
      cwd: ROOT,
      env: { ...base, ...env },
    });
    let stdout = "";
    let stderr = "";
    // Decoded across reads: the OpenAPI document's en dashes were split by a 64 KiB read once.
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    started?.(child);
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Each stderr line of a `--json` run, parsed: a line that is not JSON fails the test, naming it
 * (under --json everything on stderr is one JSON object a line, scripts/lib/cli-stderr.mjs).
 */
export const jsonLines = (stderr: string): Record<string, unknown>[] =>
  stderr
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a --json run printed a stderr line that is not JSON: ${line}`);
      }
    });

/**
 * The header every plinth answer carries (its request id), which a stand-in plinth sends too:
 * the CLI takes an answer without it for another server at the URL (exit 3).
 */
export const STAND_IN_HEADERS = { "x-request-id": "stand-in-plinth" } as const;

/**
 * A stand-in plinth answering every request with `answer(path)`, 200 with `contentType`, on a port
 * of the system's choosing: started before the file's tests and closed after them. `url()` is its
 * origin once started.
 */
export function serving(contentType: string, answer: (path: string) => string): { url: () => string } {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": contentType, ...STAND_IN_HEADERS });
    res.end(answer(req.url ?? "/"));
  });
  let url = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))));
  return { url: () => url };
}

/** {@link serving} with `answer(path)` as JSON, for a file's tests of how the CLI prints an answer. */
export const jsonServing = (answer: (path: string) => unknown) =>
  serving("application/json", (path) => JSON.stringify(answer(path)));

/** A plinth answering the API-key routes with `key`: one key read, or a page of it. */
export const keyRoutesServing = (key: Record<string, unknown>) =>
  jsonServing((path) => (path.startsWith("/api/v1/admin/api-keys/") ? key : { items: [key], next_cursor: null }));
