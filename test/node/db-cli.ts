// Runs the `plinth` CLI of a project for the db commands' Node tests: READ_MODEL_URL and its
// token are not inherited from the test's environment (a run names its own, or none).
import { execFile } from "node:child_process";
import path from "node:path";

/** The exit code and output of `plinth <args>` run from the project at `root`. */
export function dbCli(root: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = { ...process.env };
    delete clean.READ_MODEL_URL;
    delete clean.READ_MODEL_AUTH_TOKEN;
    execFile(
      process.execPath,
      [path.join(root, "scripts", "plinth.mjs"), ...args],
      { cwd: root, env: { ...clean, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
