/**
 * The request's host as one DNS name: lower case, without the root's trailing dot. A client may
 * write `Acme.Example.com.` (a fully qualified name) for `acme.example.com`; both reach this
 * Worker, so both must name the same tenant. The URL parser already lower-cases ASCII, turns
 * Unicode labels into punycode and drops the port; the dot is the one spelling it keeps.
 *
 * @example
 * hostName(new URL("https://Acme.example.com.:8443/")); // "acme.example.com"
 */
export function hostName(url: URL): string {
  const host = url.hostname.toLowerCase();
  return host.endsWith(".") ? host.slice(0, -1) : host;
}
