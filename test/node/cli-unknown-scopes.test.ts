// A key holding a scope of a module since removed from the deployment: the API flags it in
// `unknown_scopes` (docs/identity.md, API keys), and `plinth keys list|show` say so in text.
import { describe, expect, it } from "vitest";
import { keyRoutesServing, plinth } from "./plinth-cli";

const key = {
  id: "01KEYWITHANOLDSCOPE00000000",
  name: "old",
  prefix: "plk_dev_AbCdEfGh",
  scopes: ["blog.post.read", "gone.thing.read"],
  unknown_scopes: ["gone.thing.read"],
  expires_at: null,
  last_used_at: null,
  created_at: "2026-12-01T00:00:00.000Z",
  created_by: "platform",
};

/** A plinth answering the key's routes with `key`, as a deployment without the module would. */
const served = keyRoutesServing(key);

const env = { PLINTH_KEY: `plk_dev_${"a".repeat(43)}` };

describe("a key's scopes no module declares", () => {
  it("keys show names them on a line of their own; --json is the API's answer", async () => {
    const shown = await plinth(["keys", "show", key.id, "--url", served.url()], env);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^scopes +blog\.post\.read,gone\.thing\.read$/m);
    expect(shown.stdout).toMatch(
      /^unknown_scopes +gone\.thing\.read \(no module declares them: they grant nothing\)$/m,
    );
    const json = await plinth(["keys", "show", key.id, "--json", "--url", served.url()], env);
    expect(JSON.parse(json.stdout)).toEqual(key);
  });

  it("keys list marks them in the scopes column", async () => {
    const listed = await plinth(["keys", "list", "--url", served.url()], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("blog.post.read,gone.thing.read(unknown)");
  });
});
