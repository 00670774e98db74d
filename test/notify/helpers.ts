import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type Clock, manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS, parseConfig } from "../../src/kernel/config";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { createMailConsumer, type MailConsumerOptions } from "../../src/kernel/notify/consumer";
import { type MailMessage, MailMessageSchema } from "../../src/kernel/notify/message";
import { type Mail, queueNotifier } from "../../src/kernel/notify/notifier";
import type { MailTransport, OutgoingMail } from "../../src/kernel/notify/transport";
import { verificationMail } from "../../src/modules/identity/mail-templates";
import { tenantLookup } from "../../src/modules/tenants/lookup";

export const clock = manualClock("2026-07-01T08:00:00.000Z");

/** A verification mail of tenant `tenantId` to `to`, with a recognisable token. */
export function sampleMail(to: string, tenantId = "t-mail", id?: string): Mail {
  const token = `plv_${to.replace(/[^a-z0-9]/g, "")}secret0123456789`;
  return {
    ...(id ? { id } : {}),
    tenantId,
    to,
    kind: "identity.verify-email",
    ...verificationMail({ tenantName: "Mail Test Co", token }),
  };
}

/** The queue messages `mails` become, as the Notifier sends them (sealed with the test env's ENCRYPTION_KEYS unless `sealed` is false). */
export async function messagesOf(mails: Mail[], { sealed = true } = {}) {
  const encryptionKeys = sealed ? testConfig().encryptionKeys : undefined;
  const sent: unknown[] = [];
  const queue = {
    send: async (body: unknown) => void sent.push(body),
    sendBatch: async () => {},
  } as unknown as Queue;
  const notifier = queueNotifier(queue, { encryptionKeys }, clock);
  for (const mail of mails) await notifier.send(mail);
  return sent.map((body) => MailMessageSchema.parse(body)) as MailMessage[];
}

/** A transport that records what it was given, and fails (or not) as `fail` says. */
export function recordingTransport(fail: (mail: OutgoingMail, call: number) => Error | undefined = () => undefined) {
  const calls: OutgoingMail[] = [];
  const transport: MailTransport = {
    name: "recording",
    async deliver(mail) {
      calls.push(mail);
      const error = fail(mail, calls.length);
      if (error) throw error;
    },
  };
  return { calls, transport };
}

let ids = 0;
/** Runs the mail consumer on a batch of `bodies` from `queue`; returns the queue's verdict and each message's retry calls. */
export async function consume(
  bodies: unknown[],
  options: MailConsumerOptions & {
    queue?: string;
    attempts?: number;
    env?: Env;
    modules?: readonly ModuleDef[];
    clock?: Clock;
  } = {},
) {
  const batch = createMessageBatch(
    options.queue ?? "plinth-mail",
    bodies.map((body) => ({ id: `msg-${++ids}`, timestamp: new Date(), attempts: options.attempts ?? 1, body })),
  );
  const retries: { id: string; delaySeconds: number | undefined }[] = [];
  for (const message of batch.messages) {
    const original = message.retry.bind(message);
    message.retry = (o?: QueueRetryOptions) => {
      // The test pool's queue result drops delaySeconds, so record the call itself.
      retries.push({ id: message.id, delaySeconds: o?.delaySeconds });
      original(o);
    };
  }
  const ctx = createExecutionContext();
  const modules = options.modules ?? [];
  const parts = { modules, needs: KERNEL_NEEDS, clock: options.clock ?? clock };
  await createMailConsumer(parts, options)(batch, options.env ?? env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { batch, result, retries, ids: batch.messages.map((m) => m.id) };
}

/** The test env's parsed config. */
export function testConfig(overrides: Record<string, unknown> = {}) {
  const parsed = parseConfig({ ...env, ...overrides });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

/**
 * Stores a mail dead letter of `tenantId` to `to` as the dead-letter consumer does, and finds
 * it in the operator's list (through `call`, the test's own caller); its id and mail id.
 */
export async function mailLetterOf(
  call: (path: string, init: { token: string }) => Promise<{ body: Record<string, unknown> }>,
  rootKey: string,
  tenantId: string,
  to: string,
): Promise<{ id: string; mailId: string }> {
  const [message] = await messagesOf([sampleMail(to, tenantId)]);
  if (!message) throw new Error("no message");
  await consume([message], { queue: "plinth-mail-dlq", attempts: 31 });
  const listed = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}`, { token: rootKey });
  const id = (listed.body.items as { id: string; mail_id: string }[]).find((l) => l.mail_id === message.id)?.id;
  if (!id) throw new Error("letter not stored");
  return { id, mailId: message.id };
}

/** The test env with a D1 that refuses every statement (an outage), and `overrides`. */
export function d1Down(overrides: Partial<Env> = {}): Env {
  const DB = new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare" || name === "batch" || name === "exec") {
        return () => {
          throw new Error("D1_ERROR: database unavailable");
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, DB, ...overrides };
}

/** A deployment whose tenant registry does not answer (D1 down under it). */
export const unreadableRegistry: ModuleDef = {
  name: "registry",
  version: "1.0.0",
  auth: {
    tenants: {
      ...tenantLookup,
      gone: async () => {
        throw new Error("D1_ERROR: tenants unavailable");
      },
    },
  },
};

/** A queue producer (MAIL, EVENTS) that records what `send` takes, or refuses everything. */
export function recordingQueue({ refuse = false } = {}) {
  const taken: unknown[] = [];
  const queue = {
    send: async (body: unknown) => {
      if (refuse) throw new Error("Queue send failed: service unavailable");
      taken.push(body);
    },
    sendBatch: async () => {},
  } as unknown as Queue;
  return { queue, taken };
}
