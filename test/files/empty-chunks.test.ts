// A body stream can yield empty chunks (not over HTTP, whose framing has none, but through a
// service binding or a Worker's own fetch). One that yields only them never ends; the upload
// must refuse it after a bound rather than wait on it, holding its quota reservation, forever.
import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { MAX_EMPTY_CHUNKS } from "../../src/modules/files/upload";
import { expectProblem, testApp } from "../helpers";
import { call, newTenant } from "../identity/helpers";
import { bytesOf } from "./helpers";

/** A stream that yields `head` and then `empties` empty chunks (without end when Infinity). */
function emptyAfter(head: Uint8Array | null, empties: number) {
  const seen = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head) controller.enqueue(head);
    },
    pull(controller) {
      if (seen.pulled >= empties) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(0));
    },
  });
  return { seen, stream };
}

async function post(token: string, body: ReadableStream<Uint8Array>, length: number) {
  return testApp(modules).fetch("/api/v1/files", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "text/plain", "content-length": String(length) },
    body,
  });
}

const usageOf = async (token: string) => (await call("/api/v1/admin/files/quota", { token })).body;

describe("files (a body of empty chunks)", () => {
  it("refuses a body declared empty that yields only empty chunks, without end, keeping nothing", async () => {
    const t = await newTenant();
    const { seen, stream } = emptyAfter(null, Number.POSITIVE_INFINITY);
    const res = await post(t.adminKey, stream, 0);
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.detail).toBe(`the body sent more than ${MAX_EMPTY_CHUNKS} empty chunks`);
    expect(seen.pulled).toBeLessThanOrEqual(MAX_EMPTY_CHUNKS + 2);
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("refuses a body whose declared bytes are followed by empty chunks without end, keeping nothing", async () => {
    const t = await newTenant();
    const { seen, stream } = emptyAfter(bytesOf(10), Number.POSITIVE_INFINITY);
    const res = await post(t.adminKey, stream, 10);
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.detail).toBe(`the body sent more than ${MAX_EMPTY_CHUNKS} empty chunks`);
    expect(seen.pulled).toBeLessThanOrEqual(MAX_EMPTY_CHUNKS + 2);
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("takes a body declared empty that sends a few empty chunks and ends, as a file of 0 bytes", async () => {
    const t = await newTenant();
    const res = await post(t.adminKey, emptyAfter(null, 3).stream, 0);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ size: 0 });
  });

  it("takes a body whose bytes are followed by a few empty chunks", async () => {
    const t = await newTenant();
    const res = await post(t.adminKey, emptyAfter(bytesOf(10), 3).stream, 10);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ size: 10 });
  });
});
