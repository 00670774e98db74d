import { defineErrorCodes } from "../../kernel/errors/codes";

/**
 * The webhooks module's error codes, part of the public contract. A missing
 * endpoint or delivery is the kernel's `not_found`: another tenant's answer
 * alike.
 */
export const webhookErrors = defineErrorCodes({
  /** The URL may not be a webhook target (scheme, private address, credentials…); `detail` says why. */
  webhook_url_refused: { status: 400, title: "Webhook URL refused" },
  endpoint_limit_reached: { status: 409, title: "Endpoint limit reached" },
  /** A test message to a disabled endpoint would wait unsent until it is enabled again. */
  endpoint_disabled: { status: 409, title: "Endpoint disabled" },
  /**
   * The tenant enabling an endpoint the platform disabled: only the platform enables it. 409,
   * not 403: the key holds the permission (and its other changes are taken); the endpoint's
   * state refuses it, as `endpoint_disabled` refuses a test message.
   */
  endpoint_disabled_by_platform: { status: 409, title: "Endpoint disabled by the platform" },
});
