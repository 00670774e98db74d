import type { ModuleSweep } from "../modules";

const PASSWORD = "sweep-sessions-password-0123";

type Json = Record<string, unknown>;

/**
 * The identity module's sessions and OpenID Connect operations (issue 16),
 * kept beside the product modules' sweeps so the core's valid.ts stays small.
 * They act on a user of their own, Carol, so revoking her sessions leaves the
 * fixtures' sessions (used by the error requests and the teardown) alone.
 */
export const sweep: ModuleSweep = {
  samples: {},
  async valid(s, fx) {
    await s.call({
      intent: "valid",
      op: "GET /.well-known/openid-configuration",
      label: "no credential",
      expect: 200,
    });
    const anon = { intent: "valid" as const, headers: { "x-tenant": fx.slug } };
    const email = "carol@example.com";
    const carol = await s.need<Json>({
      ...anon,
      op: "POST /api/v1/auth/register",
      label: "Carol",
      expect: 201,
      json: { email, password: PASSWORD, name: "Carol" },
    });
    const userId = String(carol.id);
    const login = async () =>
      String(
        (
          await s.need<Json>({
            ...anon,
            op: "POST /api/v1/auth/login",
            label: "Carol",
            expect: 200,
            json: { email, password: PASSWORD },
          })
        ).access_token,
      );
    const first = await login();
    const second = await login();
    await login();
    const jwt = (token: string) => ({
      intent: "valid" as const,
      label: "JWT",
      headers: { authorization: `Bearer ${token}` },
    });
    const admin = { intent: "valid" as const, label: "admin key", headers: { authorization: `Bearer ${fx.adminKey}` } };

    await s.call({ ...jwt(first), op: "GET /api/v1/auth/userinfo", expect: 200 });
    const { items } = await s.need<{ items: { id: string; current: boolean }[] }>({
      ...jwt(first),
      op: "GET /api/v1/me/sessions",
      expect: 200,
    });
    const own = items.find((i) => i.current)?.id ?? "";
    await s.call({ ...jwt(first), op: "DELETE /api/v1/me/sessions/{id}", expect: 204, params: { id: own } });
    await s.call({ ...jwt(second), op: "POST /api/v1/me/sessions/revoke-others", expect: 200 });

    await login();
    const listed = await s.need<{ items: { id: string }[] }>({
      ...admin,
      op: "GET /api/v1/admin/users/{id}/sessions",
      expect: 200,
      params: { id: userId },
    });
    await s.call({
      ...admin,
      op: "DELETE /api/v1/admin/users/{id}/sessions/{sid}",
      expect: 204,
      params: { id: userId, sid: listed.items[0]?.id ?? "" },
    });
    await s.call({
      ...admin,
      op: "POST /api/v1/admin/users/{id}/sessions/revoke-all",
      expect: 200,
      params: { id: userId },
    });
  },
};
