// Why an endpoint is disabled after a change (disabledAfter, webhooks/domain.ts): what its
// tenant's admins read in `disabled_reason` and `disabled_note`.
import { describe, expect, it } from "vitest";
import { disabledAfter } from "../../src/modules/webhooks/domain";

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
