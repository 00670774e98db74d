import { describe, expect, it } from "vitest";
import { mailboxEnabled, mailboxServes } from "../../src/kernel/notify/mailbox";

const at = (origin: string) => new URL(`${origin}/api/v1/dev/mailbox`);

describe("the development mailbox's exposure", () => {
  it("answers wrangler dev on loopback hosts, including tenant subdomains of localhost", () => {
    for (const origin of [
      "http://127.0.0.1:8787",
      "http://localhost:8787",
      "http://[::1]:8787",
      "http://demo.localhost:8787",
      "http://127.0.0.2",
    ]) {
      expect(mailboxServes("development", at(origin)), origin).toBe(true);
    }
  });

  it("never answers a deployed Worker, even one deployed with the development vars", () => {
    for (const origin of [
      "https://plinth.acme.workers.dev",
      "https://api.example.com",
      "https://localhost.example.com",
      "https://127.0.0.1.nip.io",
      "https://evil-localhost",
    ]) {
      expect(mailboxServes("development", at(origin)), origin).toBe(false);
    }
    for (const environment of ["staging", "production"]) {
      expect(mailboxServes(environment, at("http://127.0.0.1:8787")), environment).toBe(false);
      expect(mailboxEnabled(environment), environment).toBe(false);
    }
  });

  it("serves any host in the test pool", () => {
    expect(mailboxServes("test", at("http://plinth.test"))).toBe(true);
  });
});
