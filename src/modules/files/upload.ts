import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** What reached R2: the byte count and the lower-case hex SHA-256 of the bytes. */
export interface Stored {
  size: number;
  sha256: string;
}

/** The body did not carry the number of bytes its `Content-Length` promised. */
export class BodyLengthError extends Error {
  override name = "BodyLengthError";
}

/**
 * How many empty chunks a body may send before it is refused. Over HTTP a body has none; a
 * stream handed over a service binding or a Worker's own `fetch` can yield them, and one that
 * yields only them never ends: without a bound, the upload (and its quota reservation) would
 * wait on it forever.
 */
export const MAX_EMPTY_CHUNKS = 1024;

const tooManyEmpty = () => new BodyLengthError(`the body sent more than ${MAX_EMPTY_CHUNKS} empty chunks`);

/**
 * Whether a body declared empty carries a byte. Read up to its first non-empty chunk and then
 * cancelled: a body that says 0 bytes and sends more (where framing is not HTTP's) is not read
 * into memory to find out by how much. One that sends only empty chunks, past
 * {@link MAX_EMPTY_CHUNKS} of them, is refused as the length path refuses it.
 */
async function carriesBytes(body: ReadableStream<Uint8Array>): Promise<boolean> {
  const reader = body.getReader();
  try {
    for (let empty = 0; ; empty++) {
      if (empty > MAX_EMPTY_CHUNKS) throw tooManyEmpty();
      const { done, value } = await reader.read();
      if (done) return false;
      if (value.byteLength > 0) return true;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * Streams a request body of `length` bytes (its `Content-Length`) into R2 at
 * `key`, hashing it with SHA-256 as it passes: no byte is held longer than
 * its chunk. WebCrypto has no incremental SHA-256, so @noble/hashes' is fed
 * chunk by chunk. R2 takes a stream of known length only, hence the
 * FixedLengthStream; a body longer or shorter than `length`, or one that sends more
 * than {@link MAX_EMPTY_CHUNKS} empty chunks, is refused ({@link BodyLengthError})
 * and R2 keeps nothing of it.
 *
 * @example
 * const stored = await streamToR2(env.FILES, key, c.req.raw.body, length, { contentType, name });
 */
export async function streamToR2(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array> | null,
  length: number,
  meta: { contentType: string; name: string },
): Promise<Stored> {
  const options: R2PutOptions = {
    httpMetadata: { contentType: meta.contentType },
    customMetadata: { name: meta.name },
  };
  if (body === null && length > 0) throw new BodyLengthError("the body is empty; its Content-Length is not");
  if (body === null || length === 0) {
    if (body !== null && (await carriesBytes(body))) {
      throw new BodyLengthError("the body is longer than its Content-Length");
    }
    await bucket.put(key, new Uint8Array(0), options);
    return { size: 0, sha256: bytesToHex(sha256(new Uint8Array(0))) };
  }
  const hasher = sha256.create();
  let size = 0;
  let empty = 0;
  const hashing = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (chunk.byteLength === 0 && ++empty > MAX_EMPTY_CHUNKS) throw tooManyEmpty();
      size += chunk.byteLength;
      if (size > length) throw new BodyLengthError("the body is longer than its Content-Length");
      hasher.update(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      if (size < length) throw new BodyLengthError("the body is shorter than its Content-Length");
    },
  });
  const fixed = new FixedLengthStream(length);
  try {
    await Promise.all([body.pipeThrough(hashing).pipeTo(fixed.writable), bucket.put(key, fixed.readable, options)]);
  } catch (error) {
    // R2's side may reject first, with its own error: the cause is named from what was counted.
    if (empty > MAX_EMPTY_CHUNKS) throw tooManyEmpty();
    if (size !== length) throw new BodyLengthError(`the body carried ${size} bytes, its Content-Length ${length}`);
    throw error;
  }
  return { size, sha256: bytesToHex(hasher.digest()) };
}
