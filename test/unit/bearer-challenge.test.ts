// The RFC 6750 challenge is a header value: a description carrying a quote, a backslash or a
// character outside printable ASCII would end its quoted-string early or make the header invalid.
import { describe, expect, it } from "vitest";
import { bearerChallenge, tokenRefused } from "../../src/kernel/auth/challenge";

describe("bearerChallenge", () => {
  it("keeps the description inside one quoted-string of printable ASCII", () => {
    expect(bearerChallenge("invalid_token", 'the "key" \\ é\nis gone')).toBe(
      'Bearer error="invalid_token", error_description="the key  is gone"',
    );
  });

  it("tokenRefused is a 401 unauthenticated whose challenge repeats its detail", () => {
    const error = tokenRefused("the user no longer exists");
    expect(error).toMatchObject({ code: "unauthenticated", status: 401, detail: "the user no longer exists" });
    expect(error.headers["WWW-Authenticate"]).toBe(
      'Bearer error="invalid_token", error_description="the user no longer exists"',
    );
  });
});
