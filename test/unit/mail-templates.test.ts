import { describe, expect, it } from "vitest";
import { escapeHtml, headerSafe, renderMail } from "../../src/kernel/notify/template";
import { passwordChangedMail, passwordResetMail, verificationMail } from "../../src/modules/identity/mail-templates";
import { endpointDisabledMail } from "../../src/modules/webhooks/mail-templates";

const HOSTILE = `Evil <script>alert("x")</script> & 'Co'\r\nBcc: victim@example.com`;
const TOKEN = "plv_0123456789abcdefghijklmnopqrstuv";

/** The text of an HTML part with tags removed and entities decoded, as a mail client shows it. */
const shown = (html: string) =>
  html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

describe("renderMail", () => {
  it("makes a text part and an HTML part of the same paragraphs, signed with the tenant's name", () => {
    const mail = renderMail({
      tenantName: "Acme",
      subject: "Hello",
      paragraphs: [["Your token: ", { code: TOKEN }], ["Bye."]],
    });
    expect(mail.subject).toBe("Hello");
    expect(mail.text).toBe(`Your token: ${TOKEN}\n\nBye.\n\n— Acme\n`);
    expect(mail.html).toMatch(/^<!doctype html>/);
    expect(mail.html).toContain("<title>Hello</title>");
    expect(mail.html).toContain(`Your token: <code style=`);
    expect(mail.html).toContain(`>${TOKEN}</code>`);
    expect(shown(mail.html)).toContain("— Acme");
  });

  it("shows a link as itself in the text part and as an anchor, escaped, in the HTML part", () => {
    const link = `https://app.example.com/v?a="><script>x</script>#token=${TOKEN}`;
    const mail = renderMail({ tenantName: "Acme", subject: "Hi", paragraphs: [["Open: ", { link }]] });
    expect(mail.text).toBe(`Open: ${link}\n\n— Acme\n`);
    expect(mail.html).toContain(`<a href="${escapeHtml(link)}"`);
    expect(mail.html).not.toContain("<script>");
    expect(shown(mail.html)).toContain(`Open: ${link}`);
  });

  it("escapes every interpolated string in the HTML part and keeps the text part as written", () => {
    const mail = renderMail({
      tenantName: HOSTILE,
      subject: `Hi ${HOSTILE}`,
      paragraphs: [[HOSTILE, { code: HOSTILE }]],
    });
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain(`"x"`);
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;");
    // What a reader sees is what was written (control characters aside).
    expect(shown(mail.html)).toContain(`Evil <script>alert("x")</script> & 'Co'`);
    expect(mail.text).toContain(HOSTILE);
  });

  it("keeps the subject to one line: a tenant name cannot add a header", () => {
    const mail = renderMail({ tenantName: HOSTILE, subject: `Welcome to ${HOSTILE}`, paragraphs: [] });
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toBe(`Welcome to Evil <script>alert("x")</script> & 'Co' Bcc: victim@example.com`);
    expect(mail.text).toMatch(/— Evil <script>alert\("x"\)<\/script> & 'Co' Bcc: victim@example.com\n$/);
  });
});

describe("escapeHtml and headerSafe", () => {
  it("escape the five HTML metacharacters", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("turn control characters and Unicode line separators into spaces and cap the length", () => {
    expect(headerSafe("a\r\nb\tc\u0000d\u2028e\u0085f")).toBe("a b c d e f");
    expect(headerSafe("x".repeat(500))).toHaveLength(200);
  });

  it("cap the length in characters, never splitting one written with two UTF-16 units", () => {
    // A tenant named with emoji: the subject passes 200 characters, and a cut by UTF-16 length lands
    // inside a surrogate pair, which a sealed queue message turns into U+FFFD and a strict JSON
    // parser at the provider refuses outright (a dead letter).
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    // 198 UTF-16 units, within DisplayName's 200; the subject passes 200 characters.
    const tenantName = "x".repeat(168) + "🎉".repeat(15);
    const { subject } = verificationMail({ tenantName, token: TOKEN });
    // Booleans only: a lone surrogate in a failure message cannot cross the test runner's UTF-8 socket.
    expect(loneSurrogate.test(subject), "a lone surrogate in the subject").toBe(false);
    expect(Array.from(subject).length).toBe(200);
    expect(subject.endsWith("🎉…"), "ends in a whole emoji, then the ellipsis").toBe(true);
    const cut = headerSafe(`${"x".repeat(198)}🎉🎉🎉`);
    expect(cut === `${"x".repeat(198)}🎉…`, "cut after the whole emoji").toBe(true);
  });
});

describe("identity's mail", () => {
  it("verification: the tenant's name, the token in both parts, how to use it and for how long", () => {
    const mail = verificationMail({ tenantName: "Acme", token: TOKEN });
    expect(mail.subject).toBe("Verify your email address for Acme");
    expect(mail.text).toContain(`Your verification token: ${TOKEN}`);
    expect(mail.text).toContain("POST /api/v1/auth/verify-email");
    expect(mail.text).toContain("within 24 hours");
    expect(mail.text).toContain("Welcome to Acme.");
    expect(shown(mail.html)).toContain(`Your verification token: ${TOKEN}`);
  });

  it("password reset: the tenant's name, the token in both parts, the hour it lasts", () => {
    const token = "plp_0123456789abcdefghijklmnopqrstuv";
    const mail = passwordResetMail({ tenantName: "Acme", token });
    expect(mail.subject.startsWith("Reset your password")).toBe(true);
    expect(mail.subject).toContain("Acme");
    expect(mail.text).toContain(`Your reset token: ${token}`);
    expect(mail.text).toContain("POST /api/v1/auth/password-reset/confirm");
    expect(mail.text).toContain("within 60 minutes");
    expect(shown(mail.html)).toContain(token);
  });

  it("a hostile tenant name is escaped in both templates' HTML", () => {
    for (const mail of [
      verificationMail({ tenantName: HOSTILE, token: TOKEN }),
      passwordResetMail({ tenantName: HOSTILE, token: TOKEN }),
    ]) {
      expect(mail.html).not.toContain("<script>");
      expect(mail.subject).not.toMatch(/[\r\n]/);
      expect(shown(mail.html)).toContain(`<script>alert("x")</script>`);
    }
  });
});

describe("webhooks' mail", () => {
  const base = { tenantName: "Acme", endpointId: "ep_1", host: "hooks.example.com" };

  it("says which endpoint stopped, why, since when, and how to enable it", () => {
    const mail = endpointDisabledMail({
      ...base,
      reason: "failing",
      failingSince: "2026-01-01T00:00:00Z",
      failures: 42,
    });
    expect(mail.subject).toBe("Webhook endpoint ep_1 was disabled (Acme)");
    expect(mail.text).toContain(
      "ep_1 (hooks.example.com) at Acme have stopped: every delivery attempt failed for too long.",
    );
    expect(mail.text).toContain("failing since 2026-01-01T00:00:00Z (42 attempts)");
    expect(mail.text).toContain(`PATCH /api/v1/admin/webhooks/ep_1 {"enabled": true}`);
    expect(shown(mail.html)).toContain(`PATCH /api/v1/admin/webhooks/ep_1 {"enabled": true}`);
  });

  it("names each reason, and leaves out the failing time when there is none", () => {
    const gone = endpointDisabledMail({ ...base, reason: "gone", failingSince: null, failures: 1 });
    expect(gone.text).toContain("the receiver answered 410 Gone");
    expect(gone.text).not.toContain("failing since");
    const shredded = endpointDisabledMail({ ...base, reason: "secret_unreadable" });
    expect(shredded.text).toContain("signing secret can no longer be read");
  });

  it("gives the platform's reason as its operator wrote it, escaped, and says only they enable it", () => {
    const mail = endpointDisabledMail({ ...base, reason: "platform", note: `flooding; ${HOSTILE}` });
    expect(mail.text).toContain("at Acme have stopped: the platform's operators disabled it.");
    expect(mail.text).toContain(`Their reason: flooding; ${HOSTILE}`);
    expect(mail.html).not.toContain("<script>");
    expect(shown(mail.html)).toContain(`Their reason: flooding; ${HOSTILE}`);
    expect(mail.text).toContain("Only the platform's operators can enable it again");
    expect(mail.text).not.toContain("PATCH");
    expect(endpointDisabledMail({ ...base, reason: "platform", note: null }).text).toContain("They gave no reason.");
  });

  it("escapes a hostile tenant name", () => {
    const mail = endpointDisabledMail({ ...base, tenantName: HOSTILE, reason: "gone" });
    expect(mail.html).not.toContain("<script>");
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });
});

describe("passwordChangedMail", () => {
  it("names the API call to reset with, or, for a tenant that mails links into its app, the app", () => {
    const api = passwordChangedMail({ tenantName: "Acme", how: "change", viaApp: false });
    expect(api.text).toContain("POST /api/v1/auth/password-reset");
    // An app's users reset where they sign in: an API route means nothing to them.
    const app = passwordChangedMail({ tenantName: "Acme", how: "reset", viaApp: true });
    expect(app.text).not.toContain("/api/v1");
    expect(app.text).toContain("sign in");
    expect(app.text).not.toMatch(/pl[a-z]_/);
  });
});
