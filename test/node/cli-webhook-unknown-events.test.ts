// An endpoint holding a filter of a module since removed from the deployment: the API flags it in
// `unknown_events` (docs/webhooks.md), and `plinth webhooks endpoints` marks it in text, as
// `keys list` marks a key's unknown scopes.
import { describe, expect, it } from "vitest";
import { jsonServing, plinth } from "./plinth-cli";

const endpoint = {
  id: "01ENDPOINTOFAGONEMODULE0000",
  url: "https://hooks.example.com/in",
  description: "",
  events: ["blog.post.created", "gone.thing.*"],
  unknown_events: ["gone.thing.*"],
  checked_reads: ["blog.post.read"],
  held_back_types: [],
  enabled: true,
  disabled_reason: null,
  version: 1,
  created_at: "2026-12-01T00:00:00.000Z",
  updated_at: "2026-12-01T00:00:00.000Z",
};
/** A `blog.*` endpoint written by a key reading posts only, under a deploy that also publishes comments. */
const heldBack = {
  ...endpoint,
  id: "01ENDPOINTHELDBACKCOMMENTS0",
  events: ["blog.*"],
  unknown_events: undefined,
  held_back_types: ["blog.comment.created", "blog.comment.deleted"],
};
const served = jsonServing(() => ({ items: [endpoint, heldBack], next_cursor: null }));
const env = { PLINTH_KEY: `plk_dev_${"a".repeat(43)}` };

describe("webhooks endpoints", () => {
  it("marks the filters no module publishes events for; --json is the API's answer", async () => {
    const listed = await plinth(["webhooks", "endpoints", "--url", served.url()], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("blog.post.created,gone.thing.*(unknown)");
    const json = await plinth(["webhooks", "endpoints", "--json", "--url", served.url()], env);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).items[0].unknown_events).toEqual(["gone.thing.*"]);
  });

  it("names the types held back from each endpoint (docs/webhooks.md, `held_back_types`), - for none", async () => {
    const listed = await plinth(["webhooks", "endpoints", "--url", served.url()], env);
    expect(listed.status, listed.stderr).toBe(0);
    const lines = listed.stdout.split("\n");
    expect(lines[0]).toMatch(/^ID +HOST +EVENTS +HELD BACK +ENABLED +UPDATED$/);
    expect(lines).toContainEqual(expect.stringMatching(/^01ENDPOINTOFAGONEMODULE0000 +\S+ +\S+ +- +yes /));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^01ENDPOINTHELDBACKCOMMENTS0 +\S+ +blog\.\* +blog\.comment\.created,blog\.comment\.deleted +yes /,
      ),
    );
  });
});
