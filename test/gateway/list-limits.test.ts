// Every paged list reads `?limit=` as a plain decimal integer from 1 to 100 and nothing else:
// `1e1`, `0x10` and ` 1` were read as numbers by Number(), and a repeated `limit` answered
// "received NaN". Each is now 400 validation_failed naming query.limit in plain words.
import { describe, expect, it } from "vitest";
import { call } from "../identity/helpers";
import { pagedLists } from "./paged-lists";

const MESSAGE = "must be a whole number from 1 to 100, in plain decimal digits";

describe("list limits", () => {
  it("each paged list takes a plain decimal limit, and refuses any other spelling of a number", async () => {
    const { lists } = await pagedLists();
    for (const { path, token } of lists) {
      for (const limit of ["1", "07", "100"]) {
        const res = await call(`${path}?limit=${limit}`, { token });
        expect(res.status, `${path} ${limit}: ${JSON.stringify(res.body)}`).toBe(200);
      }
      for (const query of [
        "limit=1e1",
        "limit=0x10",
        "limit=%201",
        "limit=1%20",
        "limit=%2B5",
        "limit=1.0",
        "limit=",
        "limit=0",
        "limit=101",
        "limit=2&limit=3",
      ]) {
        const res = await call(`${path}?${query}`, { token });
        expect(res.status, `${path}?${query}`).toBe(400);
        expect(res.body, `${path}?${query}`).toMatchObject({
          code: "validation_failed",
          errors: [{ path: "query.limit", message: MESSAGE }],
        });
      }
    }
  });
});
