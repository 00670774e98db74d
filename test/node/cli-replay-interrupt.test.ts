// `plinth events replay` stopped by a signal (Ctrl-C, a kill) while a call is under way: like a
// failed call, it must say where to go on from. It said nothing, and the cursor was only in the
// last progress line (walked on `npm start`: a backfill killed midway).
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plinth, type Ran, STAND_IN_HEADERS } from "./plinth-cli";

const ROOT_KEY = "r".repeat(43);
const FIRST = { source: "events", streams: 1, events: 2, applied: 2, unreadable: [], rebuild_from_state: false };
/** Calls the stand-in holds unanswered: the one a signal interrupts. */
const held: ServerResponse[] = [];
let calls = 0;
/** Told when a run's second call arrives: the call under way when the signal comes. */
let onHeld = () => {};

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    calls++;
    // The first call of each run answers; the next never does.
    if (calls % 2 === 0) {
      held.push(res);
      return onHeld();
    }
    res.writeHead(200, { "content-type": "application/json", ...STAND_IN_HEADERS });
    res.end(JSON.stringify({ ...FIRST, consumer: "blog:blog.posts", next: "t1/post/p1" }));
  });
});

let origin = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** Runs a replay, sends `signal` while its second call is under way, and answers what it left. */
function interrupted(signal: NodeJS.Signals, ...args: string[]): Promise<Ran> {
  return plinth(
    ["events", "replay", "blog:blog.posts", ...args, "--url", origin],
    { PLATFORM_ROOT_KEY: ROOT_KEY },
    (child) => {
      onHeld = () => child.kill(signal);
    },
  );
}

describe("plinth events replay stopped by a signal", () => {
  it("at Ctrl-C prints the cursor to resume from, and exits 130", async () => {
    const run = await interrupted("SIGINT");
    expect(run.stderr).toContain('resume with --after "t1/post/p1"');
    expect(run.status).toBe(130);
  });

  it("at a kill (SIGTERM) the same, exit 143; with --json as a JSON line", async () => {
    const run = await interrupted("SIGTERM", "--json");
    const line = JSON.parse(run.stderr.trim().split("\n").at(-1) ?? "{}");
    expect(line).toMatchObject({ resume_after: "t1/post/p1", exit_code: 143 });
    expect(run.status).toBe(143);
  });
});
