/**
 * Outbound requests to URLs that tenants type (webhook targets): the checks that keep
 * the Worker from being used as an SSRF proxy, and the fetch that applies them. See
 * docs/outbound.md.
 */
export { type AddressClass, classifyIp, type IpAddress, isMetadataHostname, parseIp, parseIpv4Loose } from "./address";
export { OutboundFailed, OutboundRefused } from "./errors";
export { type OutboundResponse, type SafeFetchDeps, type SafeFetchInit, safeFetch } from "./fetch";
export {
  addressVerdict,
  checkUrl,
  hostOf,
  isIpLiteral,
  MAX_URL_LENGTH,
  type OutboundPolicy,
  type UrlCheck,
} from "./policy";
export { dohResolver, ResolveError, type Resolver, staticResolver } from "./resolve";
