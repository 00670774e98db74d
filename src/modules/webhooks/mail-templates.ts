import { type MailContent, renderMail } from "../../kernel/notify/template";

/** Why an endpoint was disabled (the `webhooks.endpoint.disabled` event's `reason`). */
export type DisabledReason = "failing" | "gone" | "secret_unreadable";

const WHY: Record<DisabledReason | "platform", string> = {
  failing: "every delivery attempt failed for too long",
  gone: "the receiver answered 410 Gone",
  secret_unreadable: "its signing secret can no longer be read (the tenant's key material was destroyed)",
  platform: "the platform's operators disabled it",
};

/** How to enable it again: the tenant's own PATCH, except after the platform's disabling, which refuses that (409). */
const wayBack = (reason: DisabledReason | "platform", id: string) =>
  reason === "platform"
    ? [
        "Only the platform's operators can enable it again; your own request to enable it is refused. Fix what they name, then ask them to enable it.",
      ]
    : [
        "Fix the receiver, then enable the endpoint again: ",
        { code: `PATCH /api/v1/admin/webhooks/${id} {"enabled": true}` },
      ];

/**
 * The mail to a tenant's owners and admins when one of its webhook endpoints
 * was disabled: which, why (the operator's own words when the platform disabled
 * it), since when, and how to enable it again.
 */
export function endpointDisabledMail(input: {
  tenantName: string;
  endpointId: string;
  host: string;
  reason: DisabledReason | "platform";
  /** The platform operator's reason (`disabled_note`), null when they gave none. */
  note?: string | null;
  failingSince?: string | null;
  failures?: number;
}): MailContent {
  const id = input.endpointId;
  return renderMail({
    tenantName: input.tenantName,
    subject: `Webhook endpoint ${id} was disabled (${input.tenantName})`,
    paragraphs: [
      [
        `Deliveries to your webhook endpoint ${id} (${input.host}) at ${input.tenantName} have stopped: ${WHY[input.reason]}.`,
      ],
      ...(input.reason === "platform" ? [[input.note ? `Their reason: ${input.note}` : "They gave no reason."]] : []),
      ...(input.failingSince
        ? [[`It has been failing since ${input.failingSince} (${input.failures ?? 0} attempts).`]]
        : []),
      [
        "Messages queued before it stopped stay queued and are sent when you enable it again; events that occur while it is disabled are not sent to it.",
      ],
      wayBack(input.reason, id),
    ],
  });
}
