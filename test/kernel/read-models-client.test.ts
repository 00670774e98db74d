// The libSQL read-model client, as the isolate's requests, batches and objects use it.
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readModels } from "../../src/kernel/read-models/db";

afterEach(() => vi.restoreAllMocks());

/** A Hrana (v2, HTTP) answer to a pipeline: `select 1 as n` for each statement. */
function pipelineAnswer(body: string): Response {
  const requests = (JSON.parse(body) as { requests: { type: string }[] }).requests;
  const results = requests.map((r) =>
    r.type === "execute"
      ? {
          type: "ok",
          response: {
            type: "execute",
            result: {
              cols: [{ name: "n", decltype: null }],
              rows: [[{ type: "integer", value: "1" }]],
              affected_row_count: 0,
              last_insert_rowid: null,
            },
          },
        }
      : { type: "ok", response: { type: r.type } },
  );
  return Response.json({ baton: null, base_url: null, results });
}

describe("the libSQL read models", () => {
  it("a query does not wait behind other contexts' calls that never settle", async () => {
    // Each call is made in the context of the request, batch or object that made it; when that
    // context is torn down mid-call, its call never settles. A client shared by the isolate holds
    // a slot of its concurrency limit (20) for each: once they were all held, every later query
    // of the isolate queued behind them for ever, and one that got a slot as another call ended
    // was started in that call's context.
    // Its own token: a client is cached by URL and token, so none made before is reused.
    const token = crypto.randomUUID();
    const env = { READ_MODEL_URL: "http://127.0.0.1:8811", READ_MODEL_AUTH_TOKEN: token } as unknown as Env;
    let calls = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (request.headers.get("authorization") !== `Bearer ${token}`)
        throw new Error(`unexpected fetch: ${request.url}`);
      calls++;
      if (calls <= 20) return new Promise<never>(() => {});
      return pipelineAnswer(await request.text());
    });
    // A drizzle query runs when awaited: each is started, and left unsettled.
    for (let i = 0; i < 20; i++) void Promise.resolve(readModels(env).get(sql`select 1 as n`));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(20);
    const answer = await Promise.race([
      readModels(env).get<{ n: number }>(sql`select 1 as n`),
      new Promise((r) => setTimeout(() => r("waited"), 300)),
    ]);
    expect(answer).toEqual({ n: 1 });
  });
});
