import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newSigningSecret, signatureHeader, signingKey, webhookHeaders } from "../../src/modules/webhooks/signing";

// The known-answer vector of the Standard Webhooks reference library's own tests.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  msgId: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const BODY = JSON.stringify({
  type: "post.published",
  timestamp: "2026-07-01T12:00:00Z",
  data: { id: "p_1", title: "é" },
});
const MSG_ID = "msg_01J8ZQ6T2R5V9X3K7M4N0P1Q2S";

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

describe("signing secrets", () => {
  it("are whsec_ and the padded base64 of 32 random bytes", () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(signingKey(secret)).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(secret);
  });

  it("decode to their key bytes, from 24 to 64 of them", () => {
    expect(signingKey(VECTOR.secret)).toHaveLength(24);
    expect(signingKey(`whsec_${btoa("k".repeat(64))}`)).toHaveLength(64);
  });

  it.each([
    ["no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["empty", "whsec_"],
    ["not base64", "whsec_not*base64*at*all*not*base64*"],
    ["unpadded", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"],
    ["too short (23 bytes)", `whsec_${btoa("k".repeat(23))}`],
    ["too long (65 bytes)", `whsec_${btoa("k".repeat(65))}`],
    ["another scheme's prefix", "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
  ])("are refused when malformed: %s", (_case, secret) => {
    expect(() => signingKey(secret)).toThrow(RangeError);
  });
});

describe("signatureHeader", () => {
  it("matches the reference library's known answer", async () => {
    expect(await signatureHeader([VECTOR.secret], VECTOR.msgId, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it("signs once per secret, in order, space-separated", async () => {
    const [a, b] = [newSigningSecret(), newSigningSecret()];
    const both = await signatureHeader([a, b], MSG_ID, 1_700_000_000, BODY);
    const [first, second] = both.split(" ");
    expect(first).toBe(await signatureHeader([a], MSG_ID, 1_700_000_000, BODY));
    expect(second).toBe(await signatureHeader([b], MSG_ID, 1_700_000_000, BODY));
  });

  it("refuses what would make the signed content ambiguous or the header empty", async () => {
    const secret = newSigningSecret();
    await expect(signatureHeader([], MSG_ID, 1, BODY)).rejects.toThrow(RangeError);
    await expect(signatureHeader([secret], "msg.1", 1, BODY)).rejects.toThrow(RangeError);
    await expect(signatureHeader([secret], "", 1, BODY)).rejects.toThrow(RangeError);
    await expect(signatureHeader([secret], "msg 1", 1, BODY)).rejects.toThrow(RangeError);
    await expect(signatureHeader([secret], MSG_ID, 1.5, BODY)).rejects.toThrow(RangeError);
    await expect(signatureHeader([secret, "whsec_bad"], MSG_ID, 1, BODY)).rejects.toThrow(RangeError);
  });
});

// Verified by the independent `standardwebhooks` package, as a receiver would.
describe("webhookHeaders, as a receiver verifies them", () => {
  const current = newSigningSecret();
  const previous = newSigningSecret();

  it("carries the id, timestamp, signature and JSON content type", async () => {
    const ts = nowSeconds();
    const headers = await webhookHeaders([current], MSG_ID, ts, BODY);
    expect(headers).toEqual({
      "webhook-id": MSG_ID,
      "webhook-timestamp": String(ts),
      "webhook-signature": await signatureHeader([current], MSG_ID, ts, BODY),
      "content-type": "application/json",
    });
  });

  it("verifies under each of two secrets during a rotation", async () => {
    const headers = await webhookHeaders([current, previous], MSG_ID, nowSeconds(), BODY);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    }
  });

  it("fails for a tampered body, id or timestamp", async () => {
    const ts = nowSeconds();
    const headers = await webhookHeaders([current, previous], MSG_ID, ts, BODY);
    const receiver = new Webhook(current);
    const tampered: Array<[string, Record<string, string>]> = [
      [BODY.replace("p_1", "p_2"), headers],
      [`${BODY} `, headers],
      [BODY, { ...headers, "webhook-id": "msg_01J8ZQ6T2R5V9X3K7M4N0P1Q2T" }],
      [BODY, { ...headers, "webhook-timestamp": String(ts - 1) }],
    ];
    for (const [body, sent] of tampered) {
      expect(() => receiver.verify(body, sent)).toThrow(WebhookVerificationError);
    }
  });

  it("fails under a secret that did not sign", async () => {
    const headers = await webhookHeaders([current, previous], MSG_ID, nowSeconds(), BODY);
    expect(() => new Webhook(newSigningSecret()).verify(BODY, headers)).toThrow("No matching signature found");
  });
});
