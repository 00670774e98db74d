// What a sign-in's callback answers when the provider's token endpoint refuses the client: the
// refusal is the provider's (a bad client secret, a code already used), not a bug of plinth's.
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { SsoFailure } from "../../src/modules/identity/sso/failures";

const as: oauth.AuthorizationServer = {
  issuer: "https://login.example.com",
  token_endpoint: "https://login.example.com/token",
};
const client: oauth.Client = { client_id: "plinth" };

/** The failure the callback reports for a token endpoint's `response`, read as client.ts reads it. */
async function failureFor(response: Response): Promise<SsoFailure> {
  try {
    await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: true });
  } catch (error) {
    return SsoFailure.from(error, "id_token");
  }
  throw new Error("the response was taken");
}

describe("a token endpoint's refusal", () => {
  it("answering 401 with a WWW-Authenticate challenge (a bad client secret) is the provider's error, saying nothing it sent", async () => {
    const response = new Response(JSON.stringify({ error: "invalid_client" }), {
      status: 401,
      headers: {
        "content-type": "application/json",
        "www-authenticate":
          'Basic realm="login.example.com", error="invalid_client", error_description="secret-echo-xyz"',
      },
    });
    const failure = await failureFor(response);
    expect(failure.code).toBe("sso_provider_error");
    expect(failure.detail).toMatch(/client/);
    expect(failure.detail).not.toMatch(/secret-echo-xyz|realm/);
  });

  it("answering 400 invalid_grant (a code already used) is still the provider's error, naming the error code only", async () => {
    const response = new Response(JSON.stringify({ error: "invalid_grant", error_description: "code-echo-abc" }), {
      status: 400,
      headers: { "content-type": "application/json" },
    });
    const failure = await failureFor(response);
    expect([failure.code, failure.detail]).toEqual([
      "sso_provider_error",
      "the token endpoint refused the code (invalid_grant)",
    ]);
  });
});
