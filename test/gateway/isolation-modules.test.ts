// A module's part of the tenant-isolation walk (isolation-modules.ts): its seeds' keys, and the
// operations it says the walk cannot drive on B's own resource.
import { describe, expect, it } from "vitest";
import { cannotDriveOf, collectionKey } from "./isolation-modules";

const seed = async () => ({});

describe("a module's isolation file", () => {
  it("keys a resource by the two segments before its {id}", () => {
    expect(collectionKey("/api/v1/invoices")).toBe("v1/invoices");
    expect(collectionKey("/api/v1/shop/orders/")).toBe("shop/orders");
    expect(() => collectionKey("invoices")).toThrow(/collection path/);
  });

  it("adds its cannotDrive entries to the walk's, each with its reason, none twice", () => {
    const ok = cannotDriveOf({
      "./isolation/invoices.ts": {
        seed,
        cannotDrive: { voidInvoice: "payInvoice ran first: a paid invoice is not voided" },
      },
      "./isolation/notes.ts": { seed },
    });
    expect(ok).toEqual({ voidInvoice: "payInvoice ran first: a paid invoice is not voided" });
    expect(() => cannotDriveOf({ "./isolation/a.ts": { seed, cannotDrive: { voidInvoice: " " } } })).toThrow(
      /needs its reason/,
    );
    expect(() =>
      cannotDriveOf({
        "./isolation/a.ts": { seed, cannotDrive: { x: "why" } },
        "./isolation/b.ts": { seed, cannotDrive: { x: "why" } },
      }),
    ).toThrow(/named twice/);
  });
});
