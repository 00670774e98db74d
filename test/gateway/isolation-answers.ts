// How the isolation walk (tenant-isolation.test.ts) reads answers: where a leak is looked for,
// what of a tenant's own answers may move between two reads of it, and what a tenant's answer
// names as its own.

/** The text of an answer as a leak is looked for in it: headers, body, and any JWT's payload decoded. */
export function exposed(res: Response, text: string): string {
  const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  const payloads = [...text.matchAll(/eyJ[\w-]+\.([\w-]+)\.[\w-]+/g)].map((m) => {
    try {
      const b64 = (m[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
      return atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    } catch {
      return "";
    }
  });
  return [headers, text, ...payloads].join("\n");
}

// Fields of A's own answers that move when time does, not when B does: a key's last use, when a
// personal-data export was read, a problem's request id, a checkpoint's signing, and the progress of
// A's webhook delivery, which retries on its own (its receiver never answers here).
const VOLATILE = new Set(["last_used_at", "exported_at"]);
const DELIVERY_PROGRESS = new Set([
  "attempts",
  "attempt_log",
  "next_attempt_at",
  "updated_at",
  "failures",
  "failing_since",
  "pending",
  "breaker",
  "latency_ms",
]);

/** `text` with VOLATILE fields (and a delivery's progress) dropped: JSON, each line of NDJSON, else as it is. */
export function stable(text: string): string {
  if (text.includes("\n")) return text.split("\n").map(stable).join("\n");
  try {
    return JSON.stringify(JSON.parse(text), function (this: Record<string, unknown>, k, v: unknown) {
      const delivery = "attempts" in this || "breaker" in this;
      const problem = "code" in this && "title" in this && k === "request_id";
      const signing = "signature" in this && (k === "signed_at" || k === "signature");
      return VOLATILE.has(k) || (delivery && DELIVERY_PROGRESS.has(k)) || problem || signing ? undefined : v;
    });
  } catch {
    return text;
  }
}

/** Where `before` and `after` first differ, with a little of each around it. */
export function difference(before = "", after = ""): string {
  let at = 0;
  while (at < before.length && before[at] === after[at]) at++;
  const around = (s: string) => s.slice(Math.max(0, at - 80), at + 160);
  return `\n  before …${around(before)}\n  after  …${around(after)}`;
}

// Fields whose values are A's own once A's answer holds them.
const OWN_VALUES = new Set(["id", "key", "secret", "prefix", "token", "access_token", "refresh_token", "message_id"]);

/** The values of OWN_VALUES fields anywhere in a JSON answer. */
export function valuesOf(text: string): string[] {
  const found: string[] = [];
  try {
    JSON.parse(text, (k, v: unknown) => {
      if (OWN_VALUES.has(k) && typeof v === "string" && v.length >= 8) found.push(v);
      return v;
    });
  } catch {
    // Not JSON: nothing named.
  }
  return found;
}

/**
 * `read` again until two reads in a row agree: A's lists are projections, and its audit entries
 * arrive through a queue whose batches wait up to a second, a moment behind its writes.
 */
export async function settled(read: () => Promise<Record<string, string>>): Promise<Record<string, string>> {
  let last = await read();
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1200));
    const next = await read();
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}
