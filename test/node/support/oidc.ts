// A real OpenID provider (oidc-provider) on 127.0.0.1 for end-to-end tests of
// single sign-on, with its login and consent completed without a person: the
// interaction URL signs in whichever account the test chose for the next login.
// Plus a small "browser": GETs with a cookie jar that follow redirects by hand,
// resolving *.localhost to loopback as browsers do (RFC 6761).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

/** An account of the test provider: its ID-token claims besides `sub`. */
export type TestAccount = { email: string; email_verified: boolean; name?: string; groups?: string[] };

export interface TestProvider {
  issuer: string;
  /** The account the next login signs in as. */
  loginAs(sub: string, account: TestAccount): void;
  stop(): Promise<void>;
}

/** Starts oidc-provider with one confidential client whose redirect URIs are given. */
export async function startProvider(client: {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}): Promise<TestProvider> {
  const accounts = new Map<string, TestAccount>();
  let next = "";
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: "test-1" };

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ ...client, grant_types: ["authorization_code"], response_types: ["code"] }],
    jwks: { keys: [jwk] },
    cookies: { keys: ["sso-e2e-cookie-key"] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
    // The email claims in the ID token itself, not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
  });
  const callback = provider.callback();
  server.on("request", (req, res) => {
    if (!req.url?.startsWith("/interaction/")) return void callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === "login") {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: next } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = new provider.Grant({ accountId: details.session?.accountId ?? next, clientId: client.client_id });
      grant.addOIDCScope(String(details.params.scope ?? "openid"));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  return {
    issuer,
    loginAs(sub, account) {
      accounts.set(sub, account);
      next = sub;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One response as a browser sees it before following anything. */
export type Hop = {
  status: number;
  location: string | null;
  body: string;
  url: string;
  headers: http.IncomingHttpHeaders;
};

/** A browser's cookie jar and GET, one hop at a time (redirects are the caller's to follow). */
export function browser() {
  const jar = new Map<string, string>();
  const get = (url: string): Promise<Hop> =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const cookies = [...jar.entries()].map(([k, v]) => `${k}=${v}`).join("; ");
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: `${u.pathname}${u.search}`,
          method: "GET",
          headers: cookies ? { cookie: cookies } : {},
          // *.localhost is loopback, as browsers resolve it; Node's resolver does not know it.
          lookup: (_host, options, cb) => {
            if ((options as { all?: boolean }).all)
              return (cb as (e: null, a: object[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
            (cb as (e: null, a: string, f: number) => void)(null, "127.0.0.1", 4);
          },
        },
        (res) => {
          for (const line of res.headers["set-cookie"] ?? []) {
            const [pair] = line.split(";");
            const eq = pair?.indexOf("=") ?? -1;
            if (pair && eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
          }
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              location: res.headers.location ? new URL(res.headers.location, url).href : null,
              body,
              url,
              headers: res.headers,
            }),
          );
        },
      );
      req.on("error", reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${url}`)));
      req.end();
    });
  return {
    get,
    /** Follows redirects until one leaves for a URL that `stop` accepts, or a non-redirect answer. */
    async follow(url: string, stop: (next: string) => boolean, max = 12): Promise<Hop> {
      let hop = await get(url);
      for (let i = 0; i < max && hop.location && !stop(hop.location); i++) hop = await get(hop.location);
      return hop;
    },
  };
}
