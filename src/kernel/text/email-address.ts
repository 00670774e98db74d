// Characters after which the URL parser would read a host other than the whole domain
// ("a/b" is host "a"): a domain holding one is left as typed, for the email check to refuse.
const NOT_A_HOST = /[\s/\\?#@:%[\]]/;
const ASCII = /^[\x21-\x7e]*$/;

/**
 * An email as the directory keys it, whoever sends it (a form's `email`, an identity
 * provider's `email` claim): trimmed, lower-cased, composed (NFC: a provider's `zoë` is one
 * address whether `ë` came as one code point or two), its domain in the ASCII form DNS and
 * `allowed_domains` use. An internationalised domain (`Bücher.example`, full-width letters)
 * is mapped as a URL's host is (UTS #46: NFC, case folding, punycode), so the two spellings of
 * one mailbox are one account and one listed domain. The local part is not folded further
 * (`ada+news@` stays itself). Pure; whether the result is an address is the caller's check.
 *
 * @example
 * normaliseEmail(" Ada@Bücher.example "); // "ada@xn--bcher-kva.example"
 */
export function normaliseEmail(email: string): string {
  // NFC after lower-casing, which can decompose (`İ` is `i` and a combining dot).
  const lower = email.trim().toLowerCase().normalize("NFC");
  const at = lower.lastIndexOf("@");
  if (at < 0) return lower;
  const domain = lower.slice(at + 1);
  return `${lower.slice(0, at)}@${asciiDomain(domain)}`;
}

/**
 * A domain in the ASCII form DNS uses: one holding a non-ASCII character mapped as a URL's
 * host is (UTS #46: NFC, case folding, punycode); an ASCII one, or one no host could be, as
 * given (the caller's check refuses what is not a domain). Lists of domains (signup
 * `domains`, a provider's `allowed_domains`) and emails' domains go through it alike.
 *
 * @example
 * asciiDomain("bücher.example"); // "xn--bcher-kva.example"
 */
export function asciiDomain(domain: string): string {
  if (ASCII.test(domain) || NOT_A_HOST.test(domain)) return domain;
  try {
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return domain;
  }
}
