import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { ORIGIN } from "../identity/helpers";

type Json = Record<string, unknown>;

/** A file as the API shows it. */
export interface FileJson {
  id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  created_by: string;
  created_at: string;
}

/** Lower-case hex SHA-256, computed here independently of the module. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `n` pseudo-random but reproducible bytes. */
export function bytesOf(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** POST /api/v1/files with a raw body; the status, the JSON body and the headers. */
export async function upload(
  token: string,
  bytes: Uint8Array,
  options: { type?: string; name?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const query = options.name === undefined ? "" : `?name=${encodeURIComponent(options.name)}`;
  const res = await SELF.fetch(`${ORIGIN}/api/v1/files${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": options.type ?? "text/plain", ...options.headers },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

/** Uploads and expects 201; the file. */
export async function uploaded(token: string, bytes: Uint8Array, name = "notes.txt", type = "text/plain") {
  const res = await upload(token, bytes, { name, type });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as unknown as FileJson;
}

/** A GET with optional bearer token and headers; the response with its bytes. */
export async function fetchBytes(url: string, token?: string, headers: Record<string, string> = {}) {
  const res = await SELF.fetch(url.startsWith("http") ? url : `${ORIGIN}${url}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  // A copy to read again (as a problem) after the bytes are taken.
  const copy = res.clone();
  return { res: copy, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Polls `read` until `check` holds (the list is a projection); the last value. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
