/**
 * The hosts a plain-http (or ws, or `?tls=0`) URL carrying a secret may name: this machine, by a
 * name that needs no resolver (127.0.0.0/8, [::1], localhost). The Worker's rule
 * (src/kernel/config/loopback.ts), here for the CLI's keys and `db migrate`'s token;
 * test/node/loopback-rule.test.ts keeps the two the same. Not a name under `.localhost`:
 * getaddrinfo asks DNS for it unless the machine's resolver maps it, and a resolver on the path
 * answers an address of its own.
 */
export const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;
