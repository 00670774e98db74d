// A corrupt JSON column: the error names the row, and never quotes what the row holds.
import { describe, expect, it } from "vitest";
import { storedJson } from "../../src/kernel/db/stored-json";
import { thrown } from "../thrown";

describe("storedJson", () => {
  it("returns what JSON.parse returns for stored JSON", () => {
    expect(storedJson('{"a":[1,"b",null]}', "row 1 detail")).toEqual({ a: [1, "b", null] });
    expect(storedJson('"text"', "row 1 detail")).toBe("text");
    expect(storedJson("null", "row 1 detail")).toBeNull();
  });

  it("on a corrupt column, quotes none of its text, and says which row and column", () => {
    // V8's own message quotes the text's start: `Unexpected token 'w', "whsec_TOPS"... is not valid JSON`.
    for (const text of ['whsec_TOPSECRET"]', '{"k": whsec_TOPSECRET}', '["whsec_TOPSECRET"', '["whsec_TOPSECRET"]x']) {
      const error = thrown(() => storedJson(text, "webhook endpoint ep_1 secrets"));
      expect(error.message).not.toContain("whsec_");
      expect(String(error.stack)).not.toContain("whsec_");
      expect(error.cause).toBeUndefined();
      expect(error.message).toBe("webhook endpoint ep_1 secrets is not valid JSON");
    }
  });

  it("an empty column is refused the same way", () => {
    expect(thrown(() => storedJson("", "settings row signup")).message).toBe("settings row signup is not valid JSON");
  });
});
