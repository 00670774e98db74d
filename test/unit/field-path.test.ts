import { describe, expect, it } from "vitest";
import { fieldPath } from "../../src/kernel/errors";

// A problem's `errors[].path` joins keys with dots; a key that holds a dot (a module's policy,
// `tickets.open`) is written as a JSON string in brackets, so the path names one key, not two.
describe("fieldPath", () => {
  it("joins plain keys and indexes with dots, as every 400 did", () => {
    expect(fieldPath(["body", "title"])).toBe("body.title");
    expect(fieldPath(["body", "permissions", 2])).toBe("body.permissions.2");
    expect(fieldPath(["header", "if-match"])).toBe("header.if-match");
    expect(fieldPath(["body", "rate_limits", "tenant", "limit"])).toBe("body.rate_limits.tenant.limit");
  });

  it("brackets a key that is not a plain name, so the reader can tell it from nested keys", () => {
    expect(fieldPath(["body", "rate_limits", "tickets.open", "limit"])).toBe('body.rate_limits["tickets.open"].limit');
    expect(fieldPath(["body", "rate_limits", "tickets", "open", "limit"])).toBe("body.rate_limits.tickets.open.limit");
    expect(fieldPath(["body", "labels", 'a"]b'])).toBe('body.labels["a\\"]b"]');
    expect(fieldPath(["body", "labels", ""])).toBe('body.labels[""]');
  });
});
