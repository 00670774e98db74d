// The hint of a refused permission: only a near name of the same shape, never a wrong guess.
import { describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../../src/generated/permissions";
import { misshapenPatternMessage, nearestPermission } from "../../src/modules/identity/permission-hint";
import { isKnownPermission, undeclared } from "../../src/modules/identity/undeclared";

const declared = [...ALL_PERMISSIONS];

describe("nearestPermission", () => {
  it("names the declared permission or pattern a typo or two away, of the value's shape", () => {
    expect(nearestPermission(declared, "blog.post.updaet")).toBe("blog.post.update"); // a swap is one edit
    expect(nearestPermission(declared, "blog.post.pubilsh")).toBe("blog.post.publish");
    expect(nearestPermission(declared, "admni.*")).toBe("admin.*");
    expect(nearestPermission(declared, "*.raed")).toBe("*.read");
    expect(nearestPermission(declared, "*.wirte")).toBe("*.write");
  });

  it("names nothing past two edits: no hint rather than a wrong one", () => {
    expect(nearestPermission(declared, "*.fly")).toBeNull();
    expect(nearestPermission(declared, "orders.order.create")).toBeNull();
    expect(nearestPermission(declared, "blog.post.x")).toBeNull();
  });

  it("offers only names of the value's shape", () => {
    // `files.*` is one edit from `filed.*`, and `files.file.read` is not a hint for a pattern.
    expect(nearestPermission(["files.file.read"], "filed.*")).toBe("files.*");
    expect(nearestPermission(["files.file.read"], "*.reed")).toBe("*.read");
    expect(nearestPermission(["files.file.read"], "files.file.reed")).toBe("files.file.read");
  });
});

describe("isKnownPermission", () => {
  const set = new Set(declared);
  it("takes `*` and patterns that cover a declared permission, refuses those covering none", () => {
    for (const p of ["*", "blog.*", "*.read", "*.publish", "blog.post.read"])
      expect(isKnownPermission(set, p, true)).toBe(true);
    for (const p of ["blgo.*", "*.fly", "gone.*", "blog.post.fly"]) expect(isKnownPermission(set, p, true)).toBe(false);
    expect(isKnownPermission(set, "blog.*", false)).toBe(false);
    expect(isKnownPermission(new Set(), "*", true)).toBe(true);
  });

  it("flags a held pattern that covers nothing among a role's permissions", () => {
    expect(undeclared(set, ["gone.*", "blog.*", "gone.thing.read", "gone.*"])).toEqual(["gone.*", "gone.thing.read"]);
  });
});

describe("misshapenPatternMessage", () => {
  it("names at most eight matches of a wide glob, then how many more", () => {
    const message = misshapenPatternMessage(declared, "*.*");
    const more = declared.length - 8;
    expect(message).toMatch(new RegExp(`one by one: ([a-z_]+\\.[a-z_]+\\.[a-z_]+, ){7}[a-z_.]+ and ${more} more$`));
  });

  it("a glob of many stars still ends at once (no backtracking blow-up) and matches nothing", () => {
    const value = `${"*a".repeat(200)}!`;
    expect(misshapenPatternMessage(declared, value)).toBe(
      `${value} is not a pattern (a pattern is *, <module>.* or *.<action>)`,
    );
  });
});
