// Dead letters planted in a served plinth's D1 as its consumers store them after the last
// retry, for the tests of what lists and replays them (the CLI, the Prism sweep).
import { randomUUID } from "node:crypto";
import type { ServedWorker } from "../proxy/worker";

/** Plants an event dead letter of `tenantId` (a well-formed event of `type`); its id. */
export async function plantEventLetter(
  sql: ServedWorker["sql"],
  tenantId: string,
  { type, reason }: { type: string; reason: string },
): Promise<string> {
  const id = `dl_${randomUUID()}`;
  const at = new Date().toISOString();
  const event = { id: randomUUID(), type, tenant_id: tenantId, occurred_at: at, data: {} };
  await sql(
    `insert into dead_letters (id, queue, message_id, event_type, tenant_id, body, attempts, received_at)
     values (?, 'plinth-events', ?, ?, ?, ?, 5, ?)`,
    id,
    randomUUID(),
    type,
    tenantId,
    JSON.stringify({ reason, body: event }),
    at,
  );
  return id;
}

/** Plants a mail dead letter of `tenantId` (a plain-content mail of `kind` to `to`); its id. */
export async function plantMailLetter(
  sql: ServedWorker["sql"],
  tenantId: string,
  { kind, to, reason, prefix }: { kind: string; to: string; reason: string; prefix: string },
): Promise<string> {
  const id = `${prefix}_${randomUUID()}`;
  const at = new Date().toISOString();
  const mail = {
    v: 1,
    id: `${kind.split(".")[0]}-${randomUUID()}`,
    tenant_id: tenantId,
    kind,
    created_at: at,
    content: { plain: { to, subject: "Planted", text: "planted\n", html: "<p>planted</p>" } },
  };
  await sql(
    `insert into mail_dead_letters (id, queue, message_id, mail_id, tenant_id, kind, reason, body, attempts, received_at)
     values (?, 'plinth-mail-dlq', ?, ?, ?, ?, ?, ?, 31, ?)`,
    id,
    randomUUID(),
    mail.id,
    tenantId,
    kind,
    reason,
    JSON.stringify(mail),
    at,
  );
  return id;
}
