import type { AuditInput } from "../../src/modules/audit/contract";

/**
 * Audit entries to append in a test, each with its own event id under `prefix` and a time one
 * second after the last, for a tenant the test names. One counter per maker, so two files'
 * entries never share an id in the shared test isolate.
 *
 * @example
 * const input = auditInputs("cp-version-ev");
 * await log.append({ events: [input(tenant), input(tenant)] });
 */
export function auditInputs(prefix: string): (tenant: string) => AuditInput {
  let n = 0;
  return (tenant) => {
    n++;
    return {
      event_id: `${prefix}-${n}`,
      tenant_id: tenant,
      at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
      actor: { kind: "user", id: "u1" },
      action: "identity.user.logged_in",
      target: `${tenant}/user/u1`,
      request_id: null,
      ip_hash: null,
      detail: null,
    };
  };
}
