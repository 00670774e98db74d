// What the platform's view of a tenant keeps of a failed erasure try (erasure_error): one line,
// the wrapped driver error's cause included, at most ERASURE_ERROR_CHARS, the stack left out.
import { describe, expect, it } from "vitest";
import { ERASURE_ERROR_CHARS, erasureErrorText } from "../../src/modules/tenants/erasure-job";

describe("erasureErrorText", () => {
  it("names the error and its causes on one line, without the stack", () => {
    const cause = new Error("D1_ERROR: no such table: files");
    const text = erasureErrorText(new Error("Failed query: delete from files\nparams: [1 left out]", { cause }));
    expect(text).toBe(
      "Error: Failed query: delete from files params: [1 left out] <- Error: D1_ERROR: no such table: files",
    );
  });

  it(`cuts a long one at ${ERASURE_ERROR_CHARS} characters, saying so`, () => {
    const text = erasureErrorText(new TypeError("x".repeat(1_000)));
    expect(text).toHaveLength(ERASURE_ERROR_CHARS);
    expect(text.startsWith("TypeError: xxx")).toBe(true);
    expect(text.endsWith("…")).toBe(true);
  });
});
