// TOTP as the Worker computes it, inside workerd, against RFC 6238 Appendix B.
import { Secret, TOTP } from "otpauth";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { matchingStep, newTotpSecret, otpauthUri, TOTP_PARAMS, totpOf } from "../../src/modules/identity/two-factor";

// Appendix B's SHA-1 seed, the ASCII string "12345678901234567890".
const RFC_SECRET = Secret.fromLatin1("12345678901234567890").base32;

// [Unix time (s), 8-digit TOTP, SHA-1] from RFC 6238 Appendix B.
const VECTORS: [number, string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

describe("TOTP (RFC 6238) as the Worker configures it", () => {
  it("reproduces Appendix B's SHA-1 vectors with 8 digits at the listed times", () => {
    expect(RFC_SECRET).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    for (const [t, code] of VECTORS) {
      const totp = new TOTP({ ...TOTP_PARAMS, digits: 8, secret: Secret.fromBase32(RFC_SECRET) });
      expect(totp.generate({ timestamp: t * 1000 })).toBe(code);
    }
  });

  it("accepts each vector's 6-digit code (its last six digits) at that time, through the injected clock, naming its time step", () => {
    for (const [t, code] of VECTORS) {
      const clock = manualClock(new Date(t * 1000));
      expect(matchingStep(RFC_SECRET, code.slice(-6), clock)).toBe(Math.floor(t / 30));
      expect(totpOf(RFC_SECRET).generate({ timestamp: t * 1000 })).toBe(code.slice(-6));
    }
  });

  it("accepts one step either side of now and nothing further, and never reads the wall clock", () => {
    const [t, code] = VECTORS[3] as [number, string];
    const six = code.slice(-6);
    const clock = manualClock(new Date(t * 1000));
    clock.advance(30_000);
    expect(matchingStep(RFC_SECRET, six, clock)).toBe(Math.floor(t / 30));
    clock.advance(30_000);
    expect(matchingStep(RFC_SECRET, six, clock)).toBeNull();
    clock.set(new Date((t - 60) * 1000));
    expect(matchingStep(RFC_SECRET, six, clock)).toBeNull();
    expect(matchingStep(RFC_SECRET, "000000", manualClock(new Date(t * 1000)))).toBeNull();
  });

  it("makes 160-bit base32 secrets and an otpauth URI with the tenant as issuer and the email as label", () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    const uri = new URL(otpauthUri(secret, "Acme Inc.", "ada@example.com"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/Acme Inc.:ada@example.com");
    expect(uri.searchParams.get("issuer")).toBe("Acme Inc.");
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("algorithm")).toBe("SHA1");
    expect(uri.searchParams.get("digits")).toBe("6");
    expect(uri.searchParams.get("period")).toBe("30");
  });
});
