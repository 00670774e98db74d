// With tracing on in the isolate, code run outside an instrumented handler (app.request) runs untraced instead of
// throwing: the library's tracer throws "Config is undefined" there, and the span helpers catch it.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { tracing } from "../../src/kernel/telemetry";
import { notesModule } from "../fixtures";
import { testApp } from "../helpers";

describe("app.request with tracing on", () => {
  it("serves without the library's context", async () => {
    await (await SELF.fetch("http://plinth.test/healthz")).arrayBuffer(); // loads the entry: tracing is on now
    expect(tracing()).toBe(true);
    const { fetch } = testApp([notesModule()]);
    const res = await fetch("/api/v1/notes/notes", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBeLessThan(500);
  });
});
