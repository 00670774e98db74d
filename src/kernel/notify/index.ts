/**
 * Notifications: modules send mail through the {@link Notifier} port, which
 * puts it on the MAIL queue; the kernel's consumer sends it with the
 * deployment's transport (an HTTP email API, or the dev mailbox), retrying
 * with backoff and dead-lettering what it cannot send. See docs/notifications.md.
 */
export { createMailConsumer, isMailQueue } from "./consumer";
export { mailCheck } from "./health";
export { mailboxEnabled, mailboxServes } from "./mailbox";
export { type Mail, type Notifier, notifierOf, queueNotifier, runtimeNotifier } from "./notifier";
export { mailRoutes } from "./routes";
export { escapeHtml, headerSafe, type Inline, type Letter, type MailContent, renderMail } from "./template";
export {
  httpMailTransport,
  MailNotSent,
  MailRejected,
  type MailTransport,
  type OutgoingMail,
  transportFor,
  unconfiguredTransport,
} from "./transport";
