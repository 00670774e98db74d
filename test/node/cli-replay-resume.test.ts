// `plinth events replay --after <cursor>` against a stand-in plinth whose replay call fails: the
// line to resume from must be there whichever call failed, the first one included.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plinth, STAND_IN_HEADERS } from "./plinth-cli";

const ROOT_KEY = "r".repeat(43);
/** How the stand-in answers the next replay call. */
let answer: { status: number; body: unknown } = { status: 200, body: {} };

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(answer.status, { "content-type": "application/json", ...STAND_IN_HEADERS });
    res.end(JSON.stringify(answer.body));
  });
});

let origin = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const replay = (...args: string[]) =>
  plinth(["events", "replay", "blog:blog.posts", ...args, "--url", origin], { PLATFORM_ROOT_KEY: ROOT_KEY });

describe("plinth events replay --after, when the first call fails", () => {
  it("a 5xx prints the resume line with the cursor it started from", async () => {
    // It printed none: the run had made no call of its own, though the cursor given was still good.
    answer = { status: 500, body: { code: "internal", status: 500, detail: "internal error", request_id: "req-1" } };
    const run = await replay("--after", "t1/blog.post/p9");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("500 internal");
    expect(run.stderr).toContain('resume with --after "t1/blog.post/p9"');
  });

  it("a 4xx (the cursor or an option refused) prints none: resuming would be refused the same way", async () => {
    answer = { status: 400, body: { code: "validation_failed", status: 400, detail: "after is not a cursor" } };
    const run = await replay("--after", "nonsense");
    expect(run.status).toBe(1);
    expect(run.stderr).not.toContain("resume with");
  });
});
