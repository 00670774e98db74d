// The `type` label of plinth_dead_letters_total stays within names the platform knows, so a
// malformed message cannot mint series (docs/observability.md, "Cardinality").
import { describe, expect, it } from "vitest";
import { deadLetterType } from "../../src/kernel/queues/dead-letter-count";

describe("deadLetterType", () => {
  const published = new Set(["blog.post.created"]);

  it("names a published event type, and labels any other `other` and none `unknown`", () => {
    expect(deadLetterType("blog.post.created", published)).toBe("blog.post.created");
    expect(deadLetterType("gone.thing.happened", published)).toBe("other");
    expect(deadLetterType(`made.up.${"x".repeat(100)}`, published)).toBe("other");
    expect(deadLetterType(null, published)).toBe("unknown");
  });

  it("names a mail's kind as it is (no set of known types given), and none `unknown`", () => {
    expect(deadLetterType("identity.verify-email")).toBe("identity.verify-email");
    expect(deadLetterType(null)).toBe("unknown");
  });
});
