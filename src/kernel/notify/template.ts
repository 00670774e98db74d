/**
 * Mail rendering: a module writes a mail as a {@link Letter} (subject and
 * paragraphs of plain strings and verbatim `code` runs) and {@link renderMail}
 * makes the text and HTML parts from it. Every interpolated string is escaped
 * in the HTML part, and control characters are stripped from the subject, so
 * a tenant named `<script>` or `Acme\r\nBcc: x` is shown as written and
 * injects nothing. Pure: no runtime imports, tested in test/unit.
 */

/** A rendered mail: what the queue carries (sealed) and every transport sends. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

/**
 * A run of a paragraph: plain text, `{ code }` shown verbatim in monospace (a token, a request
 * line), or `{ link }`, a URL the reader opens (the text part shows it as is, for mail clients to
 * make clickable; the HTML part as an anchor).
 */
export type Inline = string | { code: string } | { link: string };

/** What a mail says, before rendering. */
export interface Letter {
  /** Whose mail it is: named in the greeting's sign-off and the HTML title. */
  tenantName: string;
  subject: string;
  paragraphs: readonly (readonly Inline[])[];
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * escapeHtml(`<b title="x">&</b>`); // "&lt;b title=&quot;x&quot;&gt;&amp;&lt;/b&gt;"
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/** C0 controls (CR and LF among them), DEL, C1 controls, and the Unicode line and paragraph separators. */
const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;

/**
 * One line of at most 200 characters with no control characters: a header value that cannot
 * start another header. Counted and cut in code points: a cut between the two UTF-16 units of
 * an emoji would leave a lone surrogate, which sealing turns into U+FFFD and a strict JSON
 * parser at the provider refuses.
 */
export function headerSafe(text: string): string {
  let spaced = "";
  for (const ch of text) spaced += isControl(ch.codePointAt(0) ?? 0) ? " " : ch;
  const line = spaced.replace(/\s+/g, " ").trim();
  const chars = Array.from(line);
  return chars.length > 200 ? `${chars.slice(0, 199).join("")}…` : line;
}

const textOf = (p: readonly Inline[]) =>
  p.map((run) => (typeof run === "string" ? run : "code" in run ? run.code : run.link)).join("");

const CODE_STYLE =
  "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:2px 4px;border-radius:4px;word-break:break-all";

const LINK_STYLE = "color:#1d4ed8;word-break:break-all";

const htmlOf = (p: readonly Inline[]) =>
  p
    .map((run) =>
      typeof run === "string"
        ? escapeHtml(run)
        : "code" in run
          ? `<code style="${CODE_STYLE}">${escapeHtml(run.code)}</code>`
          : `<a href="${escapeHtml(run.link)}" style="${LINK_STYLE}">${escapeHtml(run.link)}</a>`,
    )
    .join("");

/**
 * Renders a letter as a mail: the text part is the paragraphs separated by
 * blank lines and signed with the tenant's name; the HTML part is the same
 * content, escaped, in a minimal document.
 *
 * @example
 * renderMail({ tenantName: "Acme", subject: "Hello", paragraphs: [["Your token: ", { code: "plv_…" }]] });
 */
export function renderMail(letter: Letter): MailContent {
  const tenant = headerSafe(letter.tenantName);
  const subject = headerSafe(letter.subject);
  const text = [...letter.paragraphs.map(textOf), `— ${tenant}`].join("\n\n");
  const body = letter.paragraphs.map((p) => `<p style="margin:0 0 16px">${htmlOf(p)}</p>`).join("\n");
  const html = [
    "<!doctype html>",
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:15px;line-height:1.5;color:#111827">',
    body,
    `<p style="margin:24px 0 0;color:#6b7280">— ${escapeHtml(tenant)}</p>`,
    "</body></html>",
  ].join("\n");
  return { subject, text: `${text}\n`, html };
}
