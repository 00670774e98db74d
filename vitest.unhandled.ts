/**
 * vitest's `onUnhandledError` for the workerd suites: the one error it ignores is the console
 * line of background work that was still being printed when its test file ended.
 *
 * At the end of each file vitest rejects the RPC calls its worker still waits on. When the
 * pending call is a `console` line of a Durable Object still working in the background (a
 * metrics flush's retry, an endpoint's timer), the rejection (`EnvironmentTeardownError: Closing
 * rpc while "onUserConsoleLog" was pending`) is unhandled in the object's context and vitest
 * reports it as an error of the run, which fails it though every test passed: a log line was
 * lost, no assertion (vitest#11153; before scripts/patch-deps.mjs's fix for workers-sdk #15498
 * the report itself was dropped and the run hung). Any other unhandled error still fails the
 * run; this one is said on stderr so it is not silent either.
 */
export function ignoreLostConsoleLine(error: { name?: string; message?: unknown }): boolean | undefined {
  const lostLine =
    error?.name === "EnvironmentTeardownError" &&
    typeof error.message === "string" &&
    error.message.includes('Closing rpc while "onUserConsoleLog" was pending');
  if (!lostLine) return undefined;
  process.stderr.write(
    "vitest: a console line of background work still running when its test file ended was lost (ignored: vitest.unhandled.ts)\n",
  );
  return false;
}
