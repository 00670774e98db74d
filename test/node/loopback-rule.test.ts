// The CLI (its keys) and `db migrate` (the libSQL token) hold a secret to the Worker's own rule for
// plain http: this machine only. The scripts cannot import the Worker's TypeScript, so they keep the
// rule in scripts/lib/loopback.mjs; the two must not drift apart.
import { describe, expect, it } from "vitest";
import { LOOPBACK_HOST as SCRIPTS } from "../../scripts/lib/loopback.mjs";
import { LOOPBACK_HOST as WORKER } from "../../src/kernel/config/loopback";

describe("the loopback rule", () => {
  it("is the Worker's, word for word, in the scripts", () => {
    expect(SCRIPTS.source).toBe(WORKER.source);
    expect(SCRIPTS.flags).toBe(WORKER.flags);
  });

  it("takes this machine's resolver-free names only", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"]) expect(SCRIPTS.test(host)).toBe(true);
    for (const host of ["plinth.localhost", "localhost.", "192.0.2.2", "127.0.0.1.example.com", "[::ffff:127.0.0.1]"]) {
      expect(SCRIPTS.test(host)).toBe(false);
    }
  });
});
