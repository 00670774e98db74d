import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/kernel/log";
import { system } from "../../src/modules/system";
import { notesModule } from "../fixtures";
import { testApp } from "../helpers";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const push = (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>);
  vi.spyOn(console, "log").mockImplementation(push);
  vi.spyOn(console, "warn").mockImplementation(push);
  vi.spyOn(console, "error").mockImplementation(push);
  return lines;
}

describe("structured logging", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per request with method, route pattern, status, duration and request id", async () => {
    const lines = capture();
    const { fetch } = testApp([system(), notesModule()], { LOG_LEVEL: "info" });
    await fetch("/api/v1/system/info", { headers: { "X-Request-Id": "req-1" } });
    await fetch("/nope", { headers: { "X-Request-Id": "req-2" } });
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: "info",
      method: "GET",
      route: "/api/v1/system/info",
      status: 200,
      request_id: "req-1",
    });
    expect(typeof requests[0]?.duration_ms).toBe("number");
    expect(typeof requests[0]?.time).toBe("string");
    expect(requests[1]).toMatchObject({ route: null, status: 404, request_id: "req-2" });
  });

  it("logs 5xx requests at error level", async () => {
    const lines = capture();
    const { fetch } = testApp([notesModule()], { LOG_LEVEL: "info" });
    await fetch("/api/v1/notes/boom");
    expect(lines.find((l) => l.msg === "request")).toMatchObject({ level: "error", status: 500 });
  });

  it("respects LOG_LEVEL", async () => {
    const lines = capture();
    const { fetch } = testApp([system()], { LOG_LEVEL: "warn" });
    await fetch("/api/v1/system/info");
    expect(lines.filter((l) => l.msg === "request")).toHaveLength(0);
  });

  it("child loggers bind fields and keep the level", () => {
    const out: string[] = [];
    const log = createLogger("info", { service: "plinth" }, (_level, line) => out.push(line)).child({
      tenant_id: "t1",
    });
    log.debug("hidden");
    log.info("shown", { n: 1 });
    expect(out.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: "info", msg: "shown", service: "plinth", tenant_id: "t1", n: 1 }),
    ]);
  });
});
