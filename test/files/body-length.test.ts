// An upload's Content-Length is what the Worker holds it to: the quota is reserved for that many
// bytes and R2 is given a stream of that length. A body that says one size and carries more
// (possible where framing is not HTTP's: a service binding, a Worker's own fetch) is refused as
// soon as it passes the size it declared, without reading the rest into memory, and nothing is
// kept; a body with no Content-Length is refused before a byte is read, whatever its size.
import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { call, newTenant } from "../identity/helpers";
import { bytesOf } from "./helpers";

const CHUNK = 64 * 1024;

/** A body of `chunks` chunks of 64 KiB made as they are read: `pulled` says how many were. */
function counted(chunks: number) {
  const seen = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(bytesOf(CHUNK, seen.pulled));
    },
  });
  return { seen, stream };
}

/** Posts `body` as an upload with `headers`, served in-process (the body reaches the route as it is). */
async function post(token: string, body: BodyInit | null, headers: Record<string, string>, env = {}) {
  return testApp(modules, env).fetch("/api/v1/files", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "text/plain", ...headers },
    body,
  });
}

const usageOf = async (token: string) => (await call("/api/v1/admin/files/quota", { token })).body;

describe("files (the body against its Content-Length)", () => {
  it("refuses a body declared empty that carries bytes at its first chunk, keeping nothing", async () => {
    const t = await newTenant();
    const { seen, stream } = counted(64);
    const res = await post(t.adminKey, stream, { "content-length": "0" });
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.detail).toBe("the body is longer than its Content-Length");
    // 4 MiB offered; a chunk read (and one the stream may have queued ahead), not the rest.
    expect(seen.pulled).toBeLessThanOrEqual(2);
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("takes a body declared empty that is empty, as a file of 0 bytes", async () => {
    const t = await newTenant();
    const res = await post(t.adminKey, new Uint8Array(0), { "content-length": "0" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ size: 0 });
  });

  it("refuses a body longer than its Content-Length as it passes it, keeping nothing", async () => {
    const t = await newTenant();
    const { seen, stream } = counted(64);
    const res = await post(t.adminKey, stream, { "content-length": String(CHUNK + 10) });
    await expectProblem(res, 400, "validation_failed");
    expect(seen.pulled).toBeLessThanOrEqual(3);
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("refuses a chunked body over FILES_MAX_BYTES with 411 length_required before reading it", async () => {
    const t = await newTenant();
    const { seen, stream } = counted(64);
    const res = await post(t.adminKey, stream, {}, { FILES_MAX_BYTES: "1024" });
    await expectProblem(res, 411, "length_required");
    expect(seen.pulled).toBeLessThanOrEqual(1);
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });
});
