import { vi } from "vitest";

/**
 * The info lines logged with message `msg` while `run` ran (a test app built with
 * `LOG_LEVEL: "info"`, since the suite logs warnings only): how a route's record of
 * what it did (a dismissal, say) is checked. `console.log` stays silenced after, so the
 * test's other info lines do not flood the output: restore it in `afterEach`.
 */
export async function infoLines(msg: string, run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => {});
  // Spied already (the test silenced it first): only what `run` logged counts.
  const from = spy.mock.calls.length;
  await run();
  return spy.mock.calls
    .slice(from)
    .map(([line]) => {
      try {
        return JSON.parse(String(line)) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((l) => l.msg === msg);
}

/**
 * Every warning and error line logged from now on, parsed, as the test goes (both stay silenced
 * until `vi.restoreAllMocks()`). The suite's files share one runtime: filter them by what names
 * the test's own objects (a tenant id, a job), as another file's object may say the same meanwhile.
 */
export function warningLines(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  const keep = (line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>);
  vi.spyOn(console, "warn").mockImplementation(keep);
  vi.spyOn(console, "error").mockImplementation(keep);
  return lines;
}
