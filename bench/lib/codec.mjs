/**
 * Codec comparison, in Node (no Worker): a DomainEvent envelope through JSON, msgpackr and
 * cbor-x — encoded size, encode and decode throughput — and a reading of what it means here.
 */
import { deepStrictEqual } from "node:assert";
import { fmt, mdTable, median } from "./report.mjs";
import { sampleEvent } from "./sample.mjs";

/**
 * @typedef {object} Codec
 * @property {string} name
 * @property {(value: unknown) => string | Uint8Array} encode
 * @property {(encoded: any) => unknown} decode
 */

/**
 * @typedef {object} CodecRow
 * @property {string} event
 * @property {string} codec
 * @property {number} bytes encoded size (UTF-8 bytes for a string)
 * @property {number} encodeOps median over rounds, per second
 * @property {number} decodeOps
 * @property {string | null} error why it was not timed (a failed round trip)
 */

/**
 * The codecs. Workers cannot load native addons, so msgpackr and cbor-x run with their native
 * string extractors (msgpackr-extract, cbor-extract) switched off: the JavaScript paths a
 * Worker bundle would run. The switches are read when the packages are first imported.
 * @returns {Promise<{ codecs: Codec[], native: boolean }>}
 */
async function loadCodecs() {
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = "true";
  process.env.CBOR_NATIVE_ACCELERATION_DISABLED = "true";
  const msgpackr = await import("msgpackr");
  const cbor = await import("cbor-x");
  const te = new TextEncoder();
  const td = new TextDecoder();
  return {
    native: msgpackr.isNativeAccelerationEnabled || cbor.isNativeAccelerationEnabled,
    codecs: [
      { name: "JSON.stringify / JSON.parse", encode: (v) => JSON.stringify(v), decode: (s) => JSON.parse(s) },
      {
        name: "JSON + TextEncoder / TextDecoder (bytes)",
        encode: (v) => te.encode(JSON.stringify(v)),
        decode: (b) => JSON.parse(td.decode(b)),
      },
      { name: "msgpackr pack / unpack", encode: (v) => msgpackr.pack(v), decode: (b) => msgpackr.unpack(b) },
      { name: "cbor-x encode / decode", encode: (v) => cbor.encode(v), decode: (b) => cbor.decode(b) },
    ],
  };
}

const sizeOf = (/** @type {string | Uint8Array} */ x) => (typeof x === "string" ? Buffer.byteLength(x) : x.byteLength);

/** Keeps results reachable so no loop can be optimised away. @type {unknown} */
export let sink;

/**
 * Milliseconds for `n` calls of `fn(arg)`.
 * @param {(arg: any) => unknown} fn
 * @param {unknown} arg
 * @param {number} n
 */
function timeLoop(fn, arg, n) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink = fn(arg);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Two events (about 300 bytes and about 4 KB of content), each through every codec: a checked
 * round trip, one untimed pass, then `rounds` timed rounds in rotating order (`iterations` calls
 * per measurement for the small event, an eighth of that for the large one).
 * @param {{ iterations: number, rounds: number }} opts
 * @returns {Promise<{ rows: CodecRow[], native: boolean, iterations: number, rounds: number }>}
 */
export async function runCodec({ iterations, rounds }) {
  const { codecs, native } = await loadCodecs();
  const events = [
    { label: "blog.post.updated, 300 B content", event: sampleEvent(300), n: iterations },
    {
      label: "blog.post.updated, 3.7 KB content",
      event: sampleEvent(3700),
      n: Math.max(1, Math.round(iterations / 8)),
    },
  ];
  /** @type {CodecRow[]} */
  const rows = [];
  for (const { label, event, n } of events) {
    const ready = codecs.map((c) => {
      const encoded = c.encode(event);
      try {
        deepStrictEqual(c.decode(encoded), event);
        return { codec: c, encoded, error: null };
      } catch (err) {
        return { codec: c, encoded, error: `round trip differs: ${String(err).slice(0, 200)}` };
      }
    });
    const timed = ready.filter((r) => !r.error);
    for (const r of timed) {
      timeLoop(r.codec.encode, event, n);
      timeLoop(r.codec.decode, r.encoded, n);
    }
    /** @type {Map<Codec, { enc: number[], dec: number[] }>} */
    const ops = new Map(timed.map((r) => [r.codec, { enc: [], dec: [] }]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < timed.length; i++) {
        const r = timed[(i + round) % timed.length];
        const o = ops.get(r.codec);
        o?.enc.push(n / (timeLoop(r.codec.encode, event, n) / 1000));
        o?.dec.push(n / (timeLoop(r.codec.decode, r.encoded, n) / 1000));
      }
    }
    for (const r of ready) {
      const o = ops.get(r.codec);
      rows.push({
        event: `${label} (${sizeOf(JSON.stringify(event))} B as JSON)`,
        codec: r.codec.name,
        bytes: sizeOf(r.encoded),
        encodeOps: median(o?.enc ?? []),
        decodeOps: median(o?.dec ?? []),
        error: r.error,
      });
    }
  }
  return { rows, native, iterations, rounds };
}

const us = (/** @type {CodecRow} */ r) => 1e6 / r.encodeOps + 1e6 / r.decodeOps;
const pct = (/** @type {number} */ x) => `${fmt(Math.abs(x) * 100)}% ${x >= 0 ? "smaller" : "larger"}`;

/**
 * A reading generated from the numbers, with the recommendation for plinth.
 * @param {CodecRow[]} rows
 * @param {number} patchP50Ms median latency of a PATCH in this run (NaN if not measured)
 */
function codecReading(rows, patchP50Ms) {
  const groups = [...new Set(rows.map((r) => r.event))].map((e) => rows.filter((r) => r.event === e));
  const parts = [];
  let bestSavedUs = Number.NEGATIVE_INFINITY; // for the small event, the typical one
  let bestSizeSaving = 0;
  for (const [k, g] of groups.entries()) {
    const [json, bytes, ...binary] = g;
    if (!json || !bytes || json.error) continue;
    const fmtBinary = binary
      .filter((b) => !b.error)
      .map((b) => {
        bestSizeSaving = Math.max(bestSizeSaving, 1 - b.bytes / json.bytes);
        if (k === 0) bestSavedUs = Math.max(bestSavedUs, us(json) - us(b));
        return `${b.codec.split(" ")[0]} ${pct(1 - b.bytes / json.bytes)} (${b.bytes} B), encoding at ${fmt(b.encodeOps / json.encodeOps, 2)}× and decoding at ${fmt(b.decodeOps / json.decodeOps, 2)}× JSON's rate`;
      });
    parts.push(
      `${g[0].event.split(" (")[0]}: JSON is ${json.bytes} B and takes ${fmt(us(json), 2)} µs to encode and decode; ${fmtBinary.join("; ")}. Copying the JSON into a Uint8Array with TextEncoder (what a \`bytes\` body would need) runs at ${fmt(bytes.encodeOps / json.encodeOps, 2)}× JSON's encode rate.`,
    );
  }
  const perEventUs = 5 * Math.max(bestSavedUs, 0);
  const share = Number.isFinite(patchP50Ms) ? perEventUs / (patchP50Ms * 1000) : Number.NaN;
  const keep = bestSizeSaving < 0.3 && (bestSavedUs <= 0 || !(share >= 0.02));
  const write = Number.isFinite(patchP50Ms)
    ? `a PATCH's median of ${fmt(patchP50Ms, 1)} ms in this run`
    : "the milliseconds of Durable Object, queue and D1 round trips a write costs";
  const context =
    bestSavedUs <= 0
      ? `JSON has the fastest encode + decode round trip for the typical (small) event here (V8's JSON is native code; msgpackr and cbor-x run as JavaScript in a Worker), and either way a round trip costs a few µs, next to ${write}.`
      : `counting five encodes or decodes per event on its way (events table, outbox row, relay, queue, consumer), the fastest binary codec would save ${fmt(perEventUs, 1)} µs per event, next to ${write}${Number.isFinite(share) ? ` (${fmt(share * 100, 2)}% of it)` : ""}.`;
  parts.push(
    keep
      ? `**Reading: keep JSON.** Size: without msgpackr's records (off here, as every message must decode on its own) both binary formats still carry every key name and the content verbatim, so they save only JSON's quotes, braces and number text — ${fmt(bestSizeSaving * 100)}% at most here, and nothing near the 128 KB message limit changes. Speed: ${context} Debuggability: events are JSON in the Aggregate's \`events\` and \`outbox\` tables (readable, and queryable with SQLite's \`json_extract\`), in the Queues dashboard and in the dead-letter API, which stores bodies as JSON; a binary body is opaque in all of them. Queues take JSON bodies natively (\`contentType: "json"\`, as the relay sends them); a binary codec would mean \`bytes\` bodies, a decode step in every consumer and a dependency in the bundle. Revisit if events start carrying mostly numbers or binary data, if messages approach the size limit, or if a profile shows encoding in a hot path.`
      : `**Reading: a binary codec measurably helps here** (up to ${fmt(bestSizeSaving * 100)}% smaller; ${context}) Weigh that against what JSON gives: events readable in the \`events\` and \`outbox\` tables, the Queues dashboard and the dead-letter API, and Queues' native \`json\` bodies with no decode step or extra dependency. Switch only where size or encoding time shows up in a profile of real traffic.`,
  );
  return parts.join("\n\n");
}

/**
 * The "Codec comparison" section of REPORT.md.
 * @param {Awaited<ReturnType<typeof runCodec>>} result
 * @param {number} patchP50Ms
 */
export function codecSection({ rows, native, iterations, rounds }, patchP50Ms) {
  const body = rows.map((r) => {
    const json = rows.find((x) => x.event === r.event && x.codec.startsWith("JSON.stringify") && !x.error);
    if (r.error || !json) return [r.event, r.codec, String(r.bytes), "", "not timed", "", "", "", ""];
    return [
      r.event,
      r.codec,
      String(r.bytes),
      `${fmt(r.bytes / json.bytes, 2)}×`,
      fmt(r.encodeOps),
      `${fmt(r.encodeOps / json.encodeOps, 2)}×`,
      fmt(r.decodeOps),
      `${fmt(r.decodeOps / json.decodeOps, 2)}×`,
      fmt(us(r), 2),
    ];
  });
  const header = [
    "event",
    "codec",
    "bytes",
    "size vs JSON",
    "encode ops/s",
    "vs JSON",
    "decode ops/s",
    "vs JSON",
    "µs enc+dec",
  ];
  const failed = rows.filter((r) => r.error).map((r) => `${r.codec}: ${r.error}`);
  return `## Codec comparison (Node micro-benchmark)

The \`DomainEvent\` envelope of a \`blog.post.updated\` event (ids, stream, version, actor, timestamps, request id) with two content sizes, in this Node process with no other load: each codec's round trip is checked to give back an equal object, then one untimed pass, then ${rounds} rounds in rotating order of ${iterations} encodes and ${iterations} decodes per codec for the small event (${Math.max(1, Math.round(iterations / 8))} for the large one); the table shows the median rate. JSON (string) is the baseline, 1.00×. msgpackr and cbor-x use their standard maps (\`pack\`/\`unpack\`, \`encode\`/\`decode\`, no records), and run ${native ? "WITH their native Node accelerators (they could not be switched off; a Worker has none)" : "without their native Node accelerators, as in a Worker"}. This is Node ${process.version}'s V8, not workerd's: ratios carry over better than absolute rates.

${mdTable(header, body, [false, false, true, true, true, true, true, true, true])}
${failed.length ? `\nNot timed: ${failed.join(" | ")}\n` : ""}
${codecReading(rows, patchP50Ms)}
`;
}
