import type { InvitationView } from "./directory/invitations";

/**
 * An address with all of its local part but the first character hidden, behind a fixed
 * `***` so its length does not show either; the domain stays (it says which organisation,
 * which a reader counting invitations may need, not who).
 *
 * @example
 * maskedEmail("jane.doe@example.com"); // "j***@example.com"
 */
export function maskedEmail(email: string): string {
  const at = email.lastIndexOf("@");
  // Code points, not UTF-16 units: half a surrogate pair is not a character to show.
  const first = Array.from(email.slice(0, Math.max(at, 0)))[0] ?? "";
  return `${first}***${at < 0 ? "" : email.slice(at)}`;
}

/**
 * An invitation as a caller sees it. A pending one shows its address to whoever may read
 * invitations: it is being waited for, and a reader may be who greets the person. Once it
 * ended (accepted, revoked, expired) the address belongs to someone who may never have
 * joined and is kept only for the 30 days an administrator may ask what became of it: it
 * is shown whole only to who may create and revoke invitations (`managesInvitations`), and
 * masked for a read-only caller, who needs the count and the status, not the address. An
 * accepted one names its account by `user_id`, whose email the users routes show to whoever
 * may read users.
 */
export function invitationShown(invitation: InvitationView, managesInvitations: boolean): InvitationView {
  if (managesInvitations || invitation.status === "pending") return invitation;
  return { ...invitation, email: maskedEmail(invitation.email) };
}
