import { describe, expect, it } from "vitest";
import { httpMailTransport, MailNotSent, MailRejected, type OutgoingMail } from "../../src/kernel/notify/transport";
import { isRetryable, manualTime, realSleeper, TimeoutError } from "../../src/kernel/resilience";

const provider = {
  url: "https://mail.example.com/v1/send",
  key: "re_test_0123456789",
  from: "Acme <noreply@acme.example>",
};

const mail: OutgoingMail = {
  id: "01J0MAILID",
  tenantId: "t1",
  kind: "identity.verify-email",
  queuedAt: "2026-01-01T00:00:00.000Z",
  to: "ada@example.com",
  subject: "Verify your email address for Acme",
  text: "Your verification token: plv_x\n",
  html: "<p>Your verification token: <code>plv_x</code></p>",
};

/** A fetcher answering `status`, recording each request. */
function provider$(status: number) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetcher = (async (url: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(url), init: init ?? {} });
    return new Response(`{"error":"echo of ${mail.text}"}`, { status });
  }) as typeof fetch;
  return { requests, fetcher };
}

describe("the HTTP email API transport", () => {
  it("POSTs the JSON mail with the bearer key and the mail id as Idempotency-Key, and follows no redirect", async () => {
    const { requests, fetcher } = provider$(202);
    await httpMailTransport(provider, realSleeper, fetcher).deliver(mail);
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req?.url).toBe(provider.url);
    expect(req?.init.method).toBe("POST");
    expect(req?.init.redirect).toBe("manual");
    expect(req?.init.headers).toMatchObject({
      authorization: "Bearer re_test_0123456789",
      "content-type": "application/json",
      "idempotency-key": "01J0MAILID",
    });
    expect(JSON.parse(String(req?.init.body))).toEqual({
      from: "Acme <noreply@acme.example>",
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  });

  it("retries outages, throttling, a wrong key and redirects; dead-letters only what the provider refuses as such", async () => {
    for (const status of [500, 502, 503, 429, 401, 403, 404, 302, 408]) {
      const error = await httpMailTransport(provider, realSleeper, provider$(status).fetcher)
        .deliver(mail)
        .catch((e: unknown) => e);
      expect(error, String(status)).toBeInstanceOf(MailNotSent);
      expect(isRetryable(error)).toBe(true);
      expect((error as Error).message).toBe(`the mail provider answered HTTP ${status}`);
    }
    for (const status of [400, 413, 422]) {
      const error = await httpMailTransport(provider, realSleeper, provider$(status).fetcher)
        .deliver(mail)
        .catch((e: unknown) => e);
      expect(error, String(status)).toBeInstanceOf(MailRejected);
      expect(isRetryable(error)).toBe(false);
    }
  });

  it("an error never carries the mail, the key or the provider's reply", async () => {
    const unreachable = (async () => {
      throw new TypeError(`connect failed to ${provider.url}`);
    }) as typeof fetch;
    const errors = [
      await httpMailTransport(provider, realSleeper, provider$(500).fetcher)
        .deliver(mail)
        .catch((e: unknown) => e),
      await httpMailTransport(provider, realSleeper, unreachable)
        .deliver(mail)
        .catch((e: unknown) => e),
    ];
    expect(errors[1]).toBeInstanceOf(MailNotSent);
    for (const error of errors) {
      const text = `${(error as Error).message} ${(error as Error).stack ?? ""}`;
      for (const secret of ["plv_x", "ada@example.com", provider.key, "echo of"]) expect(text).not.toContain(secret);
    }
  });

  it("gives up on a provider that does not answer within the timeout (retried later)", async () => {
    const time = manualTime("2026-01-01T00:00:00Z");
    const hanging = ((_url: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
    const sending = httpMailTransport(provider, time.sleeper, hanging, 10_000)
      .deliver(mail)
      .catch((e: unknown) => e);
    await time.advance(10_000);
    const error = await sending;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isRetryable(error)).toBe(true);
  });
});
