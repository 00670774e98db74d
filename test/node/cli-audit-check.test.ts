// `plinth audit check` against a stand-in for the verify endpoint: what a fault and an
// interrupted walk print and exit with (a served plinth's intact chain is checked in
// cli-remote.test.ts, "audit check").
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { plinth, STAND_IN_HEADERS } from "./plinth-cli";

type Answer = { status: number; body: Record<string, unknown> };

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves `answer(from_seq, limit)` at the verify endpoint; returns the origin and the steps asked for. */
async function verifier(answer: (from: number, limit: number) => Answer) {
  const asked: string[] = [];
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== "/api/v1/admin/audit/verify" || req.headers.authorization !== "Bearer plk_test_key") {
      res
        .writeHead(404, { "content-type": "application/problem+json", ...STAND_IN_HEADERS })
        .end(JSON.stringify({ code: "not_found" }));
      return;
    }
    asked.push(url.search);
    const { status, body } = answer(Number(url.searchParams.get("from_seq")), Number(url.searchParams.get("limit")));
    const type = status === 200 ? "application/json" : "application/problem+json";
    res.writeHead(status, { "content-type": type, ...STAND_IN_HEADERS }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { origin: `http://127.0.0.1:${address.port}`, asked };
}

const step = (from: number, entries: number, next: number | null, broken?: number) => ({
  ok: broken === undefined,
  entries,
  from_seq: from,
  last_seq: from + entries - 1,
  last_hash: "a".repeat(64),
  checkpoint: null,
  next_from_seq: next,
  ...(broken === undefined ? {} : { broken_seq: broken }),
});

const run = (origin: string, args: string[]) =>
  plinth(["audit", "check", "--url", origin, ...args], { PLINTH_KEY: "plk_test_key" });

describe("plinth audit check", () => {
  it("stops at the first step that does not verify, names its seq and exits 1", async () => {
    const { origin, asked } = await verifier((from, limit) => ({
      status: 200,
      body: from === 1 ? step(1, limit, 1 + limit) : step(from, limit, null, from + 1),
    }));
    const ran = await run(origin, ["--step", "2"]);
    expect(ran.status).toBe(1);
    expect(ran.stdout).toBe("seq 1–2: ok\n");
    expect(ran.stderr).toContain("broken at seq 4");
    expect(asked).toEqual(["?from_seq=1&limit=2", "?from_seq=3&limit=2"]);
  });

  it("says where to go on when a step fails after others verified", async () => {
    const { origin } = await verifier((from, limit) =>
      from === 1
        ? { status: 200, body: step(1, limit, 1 + limit) }
        : {
            status: 503,
            body: { code: "unavailable", title: "Service Unavailable", status: 503, detail: "try later" },
          },
    );
    const ran = await run(origin, ["--step", "5"]);
    expect(ran.status).toBe(1);
    expect(ran.stdout).toBe("seq 1–5: ok\n");
    expect(ran.stderr).toContain("entries 1–5 verified; go on with: plinth audit check --from-seq 6");
    // As --json, the line carries where to go on.
    const json = await run(origin, ["--step", "5", "--json"]);
    expect(json.stdout).toBe("");
    expect(JSON.parse(json.stderr.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ resume_from_seq: 6 });
  });

  it("fails a start past the chain's end, naming its length: a script must not take it as verified", async () => {
    // A 4-entry chain, answered as the API does: a step past the end reads nothing and is ok.
    const { origin } = await verifier((from) => ({
      status: 200,
      body: { ...step(from, 0, null), last_seq: 4 },
    }));
    const past = await run(origin, ["--from-seq", "999"]);
    expect(past.status).toBe(1);
    expect(past.stdout).toBe("");
    expect(past.stderr).toContain("--from-seq 999 is past the end of the chain, which has 4 entries (seq 1–4)");
    const json = await run(origin, ["--from-seq", "999", "--json"]);
    expect(json.status).toBe(1);
    expect(json.stdout).toBe("");
    expect(JSON.parse(json.stderr.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ from_seq: 999, last_seq: 4 });

    // One past the last entry is where a check that verified seq 1–4 goes on: nothing new yet, ok.
    const next = await run(origin, ["--from-seq", "5"]);
    expect(next.status).toBe(0);
    expect(next.stdout).toBe(
      "seq 5: nothing there (the chain ends at seq 4)\nok: nothing new from seq 5 (the chain ends at seq 4)\n",
    );
  });

  it("finds an empty chain verified from seq 1", async () => {
    const { origin } = await verifier((from) => ({ status: 200, body: { ...step(from, 0, null), last_seq: 0 } }));
    const ran = await run(origin, ["--json"]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ ok: true, entries: 0, last_seq: 0 });
  });

  it("refuses a step or a start that is not a whole number in range, before any request", async () => {
    const { origin, asked } = await verifier(() => ({ status: 200, body: step(1, 0, null) }));
    for (const args of [
      ["--step", "0"],
      ["--step", "10001"],
      ["--from-seq", "1e3"],
      ["--from-seq", "0"],
    ]) {
      const ran = await run(origin, args);
      expect(ran.status, args.join(" ")).toBe(2);
      expect(ran.stderr).toMatch(/is a whole number from 1 to/);
    }
    expect(asked).toEqual([]);
  });
});
