// A key whose creator no longer holds some of its scopes: the API names them in
// `withheld_scopes` (docs/identity.md, What a key holds), and `plinth keys list|show` say so
// in text, as they do for `unknown_scopes`.
import { describe, expect, it } from "vitest";
import { keyRoutesServing, plinth } from "./plinth-cli";

const key = {
  id: "01KEYOFADEMOTEDADMIN0000000",
  name: "demoted",
  prefix: "plk_dev_AbCdEfGh",
  scopes: ["admin.keys.read", "identity.user.read"],
  withheld_scopes: ["admin.keys.read"],
  expires_at: null,
  last_used_at: null,
  created_at: "2026-12-01T00:00:00.000Z",
  created_by: "01USERWHOWASANADMIN00000000",
};

/** A plinth answering the key's routes with `key`, as a tenant whose admin was demoted would. */
const served = keyRoutesServing(key);

const env = { PLINTH_KEY: `plk_dev_${"a".repeat(43)}` };

describe("a key's scopes its creator no longer holds", () => {
  it("keys show names them on a line of their own; --json is the API's answer", async () => {
    const shown = await plinth(["keys", "show", key.id, "--url", served.url()], env);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^scopes +admin\.keys\.read,identity\.user\.read$/m);
    expect(shown.stdout).toMatch(
      /^withheld_scopes +admin\.keys\.read \(its creator no longer holds them whole: of these the key grants only what its creator still holds\)$/m,
    );
    const json = await plinth(["keys", "show", key.id, "--json", "--url", served.url()], env);
    expect(JSON.parse(json.stdout)).toEqual(key);
  });

  it("keys list marks them in the scopes column", async () => {
    const listed = await plinth(["keys", "list", "--url", served.url()], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("admin.keys.read(withheld),identity.user.read");
  });
});
