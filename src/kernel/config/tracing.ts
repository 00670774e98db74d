import { z } from "zod";
import { tlsOrLoopback } from "./loopback";

/**
 * The OpenTelemetry variables (the standard names, so collectors' docs apply).
 * Shared by the config schema (which reports a bad value as `config_invalid`)
 * and the tracing switch (src/kernel/telemetry), which reads them at module
 * load, before any request, and leaves tracing off when they do not parse.
 */
export const TracingEnvSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL of an OTLP/HTTP traces endpoint (…/v1/traces)" })
    // Every export carries OTEL_EXPORTER_OTLP_HEADERS (the collector's key) and the spans (tenant ids,
    // routes): in the clear only to this machine, as for MAIL_API_URL and READ_MODEL_URL.
    .refine(tlsOrLoopback, "must be https (http only to a loopback host): exports carry the headers and the spans")
    .optional(),
  // Secret (collector credentials): the message names the format, never the value.
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, "must be comma-separated key=value pairs")
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number({ message: "must be a number from 0 to 1" })
    .min(0, "must be a number from 0 to 1")
    .max(1, "must be a number from 0 to 1")
    .default(1),
});

/** What the exporter and sampler need; `undefined` means tracing is off. */
export interface TracingConfig {
  /** OTLP/HTTP (JSON) traces URL. */
  endpoint: string;
  /** Secret: headers sent with every export (e.g. the collector's API key). Never logged. */
  headers: Record<string, string>;
  /** Head-sampling ratio by trace id, 0..1. */
  ratio: number;
}

/** `key=value,key2=value2` (OTEL_EXPORTER_OTLP_HEADERS' format), values URL-decoded as the spec says. */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at > 0) headers[pair.slice(0, at).trim()] = decoded(pair.slice(at + 1).trim());
  }
  return headers;
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a stray "%": sent as written
  }
}

/** The tracing config from a parsed env: undefined (off) without an endpoint. */
export function tracingConfig(e: z.infer<typeof TracingEnvSchema>): TracingConfig | undefined {
  if (!e.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return {
    endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    headers: parseOtlpHeaders(e.OTEL_EXPORTER_OTLP_HEADERS),
    ratio: e.OTEL_TRACES_SAMPLER_ARG,
  };
}
