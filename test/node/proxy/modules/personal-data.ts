import type { ModuleSweep } from "../modules";

/**
 * The kernel's personal-data exports: the fixtures' user's copy of their data (`GET
 * /api/v1/me/export`), after the core's valid requests gave them a post, a session and audit
 * entries, so each module's part has something for the document's schema to be checked against;
 * and an administrator's copy of the same user's (`GET /api/v1/users/{id}/export`, the admin key).
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
    await s.call({
      intent: "valid",
      op: "GET /api/v1/users/{id}/export",
      label: "admin key",
      expect: 200,
      params: { id: fx.userId },
      headers: { authorization: `Bearer ${fx.adminKey}` },
    });
  },
};
