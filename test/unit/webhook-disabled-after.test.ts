// Why an endpoint is disabled after a change (disabledAfter, webhooks/domain.ts): what its
// tenant's admins read in `disabled_reason` and `disabled_note`.
import { describe, expect, it } from "vitest";
import { disabledAfter, heldByPlatform } from "../../src/modules/webhooks/domain";

const enabled = { enabled: true, disabled_reason: null, disabled_note: null } as const;
const byPlatform = { enabled: false, disabled_reason: "platform", disabled_note: "flooding" } as const;
const failing = { enabled: false, disabled_reason: "failing", disabled_note: null } as const;

describe("disabledAfter", () => {
  it("given an enabled endpoint, when the platform disables it, then it says platform and the note", () => {
    expect(disabledAfter(enabled, false, { note: "flooding" })).toEqual({
      disabled_reason: "platform",
      disabled_note: "flooding",
    });
    expect(disabledAfter(enabled, false, { note: null })).toEqual({ disabled_reason: "platform", disabled_note: null });
  });

  it("given an enabled endpoint, when an admin disables it, then it names nothing (their audit log does)", () => {
    expect(disabledAfter(enabled, false, undefined)).toEqual({ disabled_reason: null, disabled_note: null });
  });

  it("given one the platform disabled, when anyone enables it, then both are cleared", () => {
    expect(disabledAfter(byPlatform, true, undefined)).toEqual({ disabled_reason: null, disabled_note: null });
  });

  it("given a disabled one, when only its URL or filters change, then its reason stays", () => {
    expect(disabledAfter(byPlatform, undefined, undefined)).toEqual({
      disabled_reason: "platform",
      disabled_note: "flooding",
    });
    expect(disabledAfter(failing, false, undefined)).toEqual({ disabled_reason: "failing", disabled_note: null });
  });
});

describe("disabledAfter, over an endpoint already disabled", () => {
  it("given one disabled for failing or by an admin, when the platform disables it, then it says platform and the note", () => {
    expect(disabledAfter(failing, false, { note: "abuse" })).toEqual({
      disabled_reason: "platform",
      disabled_note: "abuse",
    });
    const byAdmin = { enabled: false, disabled_reason: null, disabled_note: null } as const;
    expect(disabledAfter(byAdmin, false, { note: null })).toEqual({ disabled_reason: "platform", disabled_note: null });
    expect(disabledAfter(byPlatform, false, { note: "still" })).toEqual({
      disabled_reason: "platform",
      disabled_note: "still",
    });
  });
});

describe("heldByPlatform", () => {
  it("given one the platform disabled, when the tenant enables it, then it is refused with the note", () => {
    expect(heldByPlatform(byPlatform, true, false)).toEqual({ note: "flooding" });
  });

  it("given one the platform disabled, when the platform enables it or the tenant changes anything else, then it is allowed", () => {
    expect(heldByPlatform(byPlatform, true, true)).toBeNull();
    expect(heldByPlatform(byPlatform, undefined, false)).toBeNull();
    expect(heldByPlatform(byPlatform, false, false)).toBeNull();
  });

  it("given one disabled otherwise, when the tenant enables it, then it is allowed", () => {
    expect(heldByPlatform(failing, true, false)).toBeNull();
    expect(heldByPlatform(enabled, true, false)).toBeNull();
  });
});
