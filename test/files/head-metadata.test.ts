// A HEAD of a file answers from R2's metadata: it sends no bytes, so opening the object's body
// (R2 `get`) only to have it dropped was a read of the object for nothing.
import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { newTenant, ORIGIN } from "../identity/helpers";
import { bytesOf, fetchBytes, uploaded } from "./helpers";

afterEach(() => vi.restoreAllMocks());

describe("HEAD of a file", () => {
  it("answers the GET's headers from R2's metadata, without opening the object", async () => {
    const t = await newTenant();
    const file = await uploaded(t.adminKey, bytesOf(2_000));
    const whole = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
    const get = vi.spyOn(env.FILES, "get");
    const head = vi.spyOn(env.FILES, "head");
    const res = await SELF.fetch(`${ORIGIN}/api/v1/files/${file.id}`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(res.status).toBe(200);
    expect(await res.arrayBuffer()).toHaveProperty("byteLength", 0);
    for (const name of [
      "etag",
      "content-length",
      "content-type",
      "last-modified",
      "cache-control",
      "content-disposition",
    ]) {
      expect(res.headers.get(name), name).toBe(whole.res.headers.get(name));
    }
    expect(get).not.toHaveBeenCalled();
    expect(head).toHaveBeenCalled();
  });

  it("reads the metadata once when conditions already read it", async () => {
    // The conditions step reads R2's metadata to judge If-Match/If-None-Match; the HEAD read it again.
    const t = await newTenant();
    const file = await uploaded(t.adminKey, bytesOf(100));
    const head = vi.spyOn(env.FILES, "head");
    const res = await SELF.fetch(`${ORIGIN}/api/v1/files/${file.id}`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${t.adminKey}`, "if-none-match": '"nothing-like-it"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).not.toBeNull();
    expect(head).toHaveBeenCalledTimes(1);
  });
});
