import { afterEach, describe, expect, it, vi } from "vitest";
import { type Consistency, query } from "../../src/kernel/cqrs/query-bus";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { expectProblem, testApp } from "../helpers";

const reads: string[] = [];
const routes = createRouter()
  .get("/both", async (c) => {
    const answer = await query(c, {
      name: "probe.both",
      consistency: (c.req.query("consistency") ?? "eventual") as Consistency,
      eventual: async () => {
        reads.push("d1");
        return "from the read model";
      },
      strong: async () => {
        reads.push("writer");
        return "from the writer";
      },
    });
    return c.json({ answer });
  })
  .get("/eventual-only", async (c) => {
    const answer = await query(c, {
      name: "probe.eventual",
      consistency: (c.req.query("consistency") ?? "eventual") as Consistency,
      eventual: async () => "from the read model",
    });
    return c.json({ answer });
  });
const probe: ModuleDef = { name: "probe", version: "1.0.0", routes };

describe("query bus", () => {
  afterEach(() => vi.restoreAllMocks());

  it("reads the read model by default and the writer when asked, logging each query", async () => {
    const lines: Record<string, unknown>[] = [];
    vi.spyOn(console, "log").mockImplementation((l: string) => void lines.push(JSON.parse(l)));
    const { fetch } = testApp([probe], { LOG_LEVEL: "info" });
    expect(await (await fetch("/api/v1/probe/both")).json()).toEqual({ answer: "from the read model" });
    expect(await (await fetch("/api/v1/probe/both?consistency=strong")).json()).toEqual({ answer: "from the writer" });
    expect(reads).toEqual(["d1", "writer"]);
    expect(lines.filter((l) => l.msg === "query").map((l) => [l.query, l.consistency, l.outcome])).toEqual([
      ["probe.both", "eventual", "ok"],
      ["probe.both", "strong", "ok"],
    ]);
  });

  it("refuses strong consistency where the query has no writer form", async () => {
    const { fetch } = testApp([probe]);
    const body = await expectProblem(
      await fetch("/api/v1/probe/eventual-only?consistency=strong"),
      400,
      "validation_failed",
    );
    expect(body.errors?.[0]?.path).toBe("query.consistency");
  });
});
