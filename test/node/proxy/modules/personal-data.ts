import type { ModuleSweep } from "../modules";

/**
 * The kernel's personal-data export (`GET /api/v1/me/export`): the fixtures' user's copy of their
 * data, after the core's valid requests gave them a post, a session and audit entries, so each
 * module's part has something for the document's schema to be checked against.
 */
export const sweep: ModuleSweep = {
  samples: {},
  async valid(s, fx) {
    await s.call({
      intent: "valid",
      op: "GET /api/v1/me/export",
      label: "JWT",
      expect: 200,
      headers: { authorization: `Bearer ${fx.access}` },
    });
  },
};
