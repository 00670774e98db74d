// The pattern edges the OpenAPI walk draws (test/gateway/fuzz-pattern.ts): every one is admitted by
// its pattern and its schema's lengths, and the bounds a route and its object may disagree on are
// among them, for every pattern the served document uses.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { patternEdges } from "../gateway/fuzz-pattern";

const ROOT = path.resolve(import.meta.dirname, "../..");

type Schema = { pattern?: string; minLength?: number; maxLength?: number };

/** Every schema with a pattern in the generated OpenAPI document (what the Worker serves). */
function patterned(): Schema[] {
  const doc: unknown = JSON.parse(readFileSync(path.join(ROOT, "src", "generated", "openapi.json"), "utf8"));
  const out: Schema[] = [];
  const walk = (node: unknown) => {
    if (typeof node !== "object" || node === null) return;
    if (typeof (node as Schema).pattern === "string") out.push(node as Schema);
    for (const v of Object.values(node)) walk(v);
  };
  walk(doc);
  return out;
}

describe("pattern edges", () => {
  it("are admitted by their pattern and lengths, for every pattern the document uses", () => {
    const schemas = patterned();
    expect(schemas.length).toBeGreaterThan(10);
    for (const s of schemas) {
      const edges = patternEdges(s.pattern ?? "", s.minLength, s.maxLength);
      expect(edges.length, s.pattern).toBeGreaterThan(0);
      for (const v of edges) {
        expect(v, s.pattern).toMatch(new RegExp(s.pattern ?? ""));
        expect(v.length).toBeGreaterThanOrEqual(s.minLength ?? 0);
        expect(v.length).toBeLessThanOrEqual(s.maxLength ?? 8192);
      }
    }
  });

  it("reach each bounded quantifier's bound, and a schema's maxLength along an unbounded one", () => {
    expect(patternEdges("^[a-z][a-z0-9_-]{0,62}$")).toEqual(["a", "z".repeat(63)]);
    expect(patternEdges("^(?:[0-9A-HJKMNP-TV-Z]{26})?$")).toContain("Z".repeat(26));
    expect(patternEdges("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", 3, 63)).toEqual(["0-0", "z".repeat(63)]);
  });

  it("hold a run of digits past the safe integers where the pattern admits one", () => {
    const past = (pattern: string) =>
      patternEdges(pattern, 1, 420).filter((v) => !Number.isSafeInteger(Number(/^\d+/.exec(v)?.[0] ?? "0")));
    expect(past("^(0|[1-9][0-9]*)$")).toContain("9".repeat(21));
    expect(past("^(\\d+@)?[^/@]+(\\/[^/]+\\/.+)?$")).toContain(`${"9".repeat(20)}@a`);
    expect(past("^\\d{1,16}$")).toEqual(["9".repeat(16)]);
    // Fifteen digits at most: every edge is a safe integer.
    expect(past("^(?:[1-9][0-9]{0,14})?$")).toEqual([]);
  });

  it("are none for a pattern outside the shapes read (the walk draws as before)", () => {
    expect(patternEdges("^(a)\\1$")).toEqual([]);
    expect(patternEdges("^\\bword$")).toEqual([]);
  });
});
