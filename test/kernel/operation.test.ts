// operations(): what a module's route declarations may be.
import { describe, expect, it } from "vitest";
import { PERMISSIONS } from "../../src/generated/permissions";
import { operations } from "../../src/kernel/openapi/operation";

describe("operations()", () => {
  it("refuses an access that is no permission yet, naming the operation and the fix", () => {
    // A permission added to the manifest and used in routes.ts before `npm run generate`: under
    // `npm start` nothing typechecks, the constant is undefined, and the route served it to an
    // admin key, refused a member with "missing permission undefined" and failed a `*.read` key with a 500.
    const notGenerated = Reflect.get(PERMISSIONS.blog.post, "refund");
    const op = operations(["blog"]);
    expect(() =>
      op.post("/posts/{id}/refund", {
        operationId: "refundPost",
        summary: "Refund",
        access: notGenerated,
        responses: { 204: { description: "done" } },
      }),
    ).toThrowError(
      'operation POST /posts/{id}/refund (refundPost): access is undefined, not "tenant", "principal", "user", "platform" or a permission; a PERMISSIONS constant that does not exist yet? Declare the permission in the module\'s manifest and run npm run generate',
    );
    expect(() =>
      op.get("/posts", {
        operationId: "listPosts",
        summary: "Posts",
        access: PERMISSIONS.blog.post.read,
        responses: { 204: { description: "done" } },
      }),
    ).not.toThrow();
  });
});
