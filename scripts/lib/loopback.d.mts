/** The hosts a plain-http URL carrying a secret may name (loopback.mjs). */
export declare const LOOPBACK_HOST: RegExp;
