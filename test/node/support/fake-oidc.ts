// A hand-written OpenID provider for the refusal tests: it signs in at once
// (authorize redirects straight back with a code) and issues an ID token that
// the test can spoil on purpose (another nonce, issuer, audience, an expired
// one, or one signed by a key not in its JWKS), which a real provider never does.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

/**
 * How the next ID token is spoiled: a wrong claim or signature, or (`long_email`, `long_sub`) an
 * email or `sub` longer than plinth's directory keeps (OpenID Connect caps `sub` at 255).
 */
export type Tamper = "none" | "nonce" | "iss" | "aud" | "exp" | "sig" | "long_email" | "long_sub";

export interface FakeProvider {
  issuer: string;
  /** Spoils the ID tokens issued from now on. */
  tamper(mode: Tamper): void;
  stop(): Promise<void>;
}

export async function startFakeProvider(client: { client_id: string }): Promise<FakeProvider> {
  const good = await generateKeyPair("RS256", { extractable: true });
  const rogue = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(good.publicKey)), alg: "RS256", use: "sig", kid: "fake-1" };
  const codes = new Map<string, string>();
  let mode: Tamper = "none";
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  server.on("request", (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (
      url.pathname === "/.well-known/openid-configuration" ||
      url.pathname === "/elsewhere/.well-known/openid-configuration"
    ) {
      return send(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (url.pathname === "/jwks") return send(200, { keys: [publicJwk] });
    if (url.pathname === "/authorize") {
      const code = `code-${codes.size + 1}`;
      codes.set(code, url.searchParams.get("nonce") ?? "");
      const back = new URL(url.searchParams.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      res.writeHead(302, { location: back.href });
      return void res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        raw += chunk;
      });
      req.on("end", () => {
        const nonce = codes.get(new URLSearchParams(raw).get("code") ?? "");
        if (nonce === undefined) return send(400, { error: "invalid_grant" });
        const now = Math.floor(Date.now() / 1000);
        const iat = mode === "exp" ? now - 7200 : now;
        void new SignJWT({
          email: mode === "long_email" ? `${"e".repeat(320)}@example.com` : "tampered@example.com",
          email_verified: true,
          nonce: mode === "nonce" ? "another-nonce" : nonce,
        })
          .setProtectedHeader({ alg: "RS256", kid: "fake-1" })
          .setIssuer(mode === "iss" ? "http://127.0.0.1:1" : issuer)
          .setAudience(mode === "aud" ? "someone-else" : client.client_id)
          .setSubject(mode === "long_sub" ? "s".repeat(256) : "fake-user")
          .setIssuedAt(iat)
          .setExpirationTime(iat + 300)
          .sign(mode === "sig" ? rogue.privateKey : good.privateKey)
          .then((id_token) => send(200, { access_token: "at", token_type: "Bearer", expires_in: 300, id_token }));
      });
      return;
    }
    send(404, { error: "not_found" });
  });
  return {
    issuer,
    tamper(next) {
      mode = next;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
