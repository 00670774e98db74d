// A job run's result crosses the JobRunner's RPC boundary as JSON text (JobSummaryJson in
// src/kernel/jobs/contract.ts): the object encodes it, jobRunner()'s parse of the reply decodes it.
import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { JobRunnerRpc, JobSummaryJson } from "../../src/kernel/jobs/contract";
import { errorFields, errorText } from "../../src/kernel/log";
import { thrown } from "../thrown";

const run = {
  lease_id: "l1",
  fire: 60_000,
  trigger: "cron",
  started_at: 60_000,
  finished_at: 60_010,
  duration_ms: 10,
  outcome: "ok",
  attempts: [{ attempt: 1, outcome: "ok", duration_ms: 10, error: null }],
  error: null,
} as const;

describe("a run's result across the JobRunner's RPC boundary", () => {
  it("is sent as JSON text and reaches the caller as the summary the job returned", () => {
    const summary = { found: 3, by_kind: { a: 2, b: 1 }, ids: ["x", null], ok: true };
    const text = JobSummaryJson.encode(summary);
    expect(typeof text).toBe("string");
    expect(JSON.parse(text)).toEqual(summary);
    const reply = JobRunnerRpc.status.reply.parse({
      running: null,
      last_success: 60_000,
      runs: [{ ...run, result: text }],
    });
    expect(reply.runs[0]?.result).toEqual(summary);
    expect(JobRunnerRpc.finish.reply.parse({ run: { ...run, result: null } }).run?.result).toBeNull();
  });

  it("fails the reply's parse with the field named when the text is not JSON, or no JSON object", () => {
    for (const text of ["{", "", "[1,2]", "42"]) {
      const parsed = JobRunnerRpc.finish.reply.safeParse({ run: { ...run, result: text } });
      expect(parsed.success, text).toBe(false);
      expect(parsed.error).toBeInstanceOf(ZodError);
      expect(parsed.error?.issues[0]?.path).toEqual(["run", "result"]);
    }
  });
});

// The reply's text may hold a job's result. zod 4 drops an issue's `input` from a thrown
// ZodError unless a parse asks for it (`reportInput`, which rpcClient never passes), so the
// text reaches neither the error's message (a JSON of its issues, which errorFields logs)
// nor a 500's body (`internal`, no detail). This pins that: a zod that kept `input` fails here.
describe("a reply whose result is not a summary", () => {
  const MARK = "job-result-MARK";
  for (const text of [`{"note": "${MARK}"`, `["${MARK}"]`, `"${MARK}"`]) {
    it(`fails without quoting the text (${text})`, () => {
      const error = thrown(() => JobRunnerRpc.finish.reply.parse({ run: { ...run, result: text } }));
      expect(error).toBeInstanceOf(ZodError);
      expect(error.message).toContain('"result"');
      expect(error.message).not.toContain(MARK);
      expect(JSON.stringify(error instanceof ZodError ? error.issues : null)).not.toContain(MARK);
      expect(JSON.stringify(errorFields(error))).not.toContain(MARK);
      expect(errorText(error)).not.toContain(MARK);
    });
  }
});
