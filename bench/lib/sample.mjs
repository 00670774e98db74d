/**
 * Sample data shared by the write scenarios and the codec comparison: blog-like text of a
 * given size and a `blog.post.updated` DomainEvent envelope as the Aggregate stores it.
 */

/** Markdown-ish prose with a few non-ASCII characters, as real posts have. */
const PROSE =
  "## Notes from the migration\n\nWe moved the **billing** service to the edge last week — the café " +
  "demo still works, naïvely cached. Latency dropped from ~180 ms to ~40 ms for most readers; the " +
  "long tail (p99) is dominated by cold starts and the first D1 query. Next: _projections_ for the " +
  "invoice list, idempotent consumers, and a dead-letter dashboard. Questions? Ping @ops or see " +
  "[the runbook](https://example.com/runbook).\n\n";

const encoder = new TextEncoder();

/**
 * Prose of exactly `bytes` UTF-8 bytes (cut on a character boundary, then padded with spaces).
 * @param {number} bytes
 * @param {string} [suffix] appended inside the budget (e.g. a counter that makes each text unique)
 */
export function prose(bytes, suffix = "") {
  const budget = bytes - encoder.encode(suffix).byteLength;
  let text = "";
  while (encoder.encode(text).byteLength < budget) text += PROSE;
  while (encoder.encode(text).byteLength > budget) text = text.slice(0, -1);
  return text.padEnd(text.length + budget - encoder.encode(text).byteLength, " ") + suffix;
}

/**
 * A `blog.post.updated` envelope (src/kernel/outbox DomainEvent) with `contentBytes` of content,
 * shaped like the ones the Aggregate Durable Object writes (ULIDs, ISO timestamps, a request id).
 * @param {number} contentBytes
 */
export function sampleEvent(contentBytes) {
  const tenant = "01M80R7M64PHTER99PFH7WZ48C";
  const post = "01M80R7M79GG9N4KJWMANP3ACF";
  return {
    id: "01M80R7Q2ZK3V5T0F8D4B1N6HX",
    type: "blog.post.updated",
    tenant_id: tenant,
    stream: `${tenant}/post/${post}`,
    version: 42,
    occurred_at: "2026-11-22T04:29:05.653Z",
    actor: { kind: "api_key", id: "01M80R7M5XWQ0J8Y2C7T4KD9RB" },
    data: { content: prose(contentBytes), updated_at: "2026-11-22T04:29:05.653Z" },
    request_id: "50c94a03-c3e3-4bb3-bb4d-cdbf72fc3e4f",
  };
}
