// The served document's GET operations, split by whether their 200 declares an `ETag`: what the
// conditional-read stage acts on. Shared by the contract checks of If-None-Match, If-Match, and
// If-Match on reads without an ETag.
import { SELF } from "cloudflare:test";
import { ORIGIN } from "../identity/helpers";

export interface ServedGet {
  parameters?: { name: string }[];
  responses: Record<string, { description?: string; headers?: object }>;
}
type Entry = readonly [path: string, get: ServedGet];

/** Every GET of `/openapi.json`, and those whose 200 declares an `ETag` (tagged) or does not (untagged). */
export async function servedGets(): Promise<{ gets: Entry[]; tagged: Entry[]; untagged: Entry[] }> {
  const doc = (await (await SELF.fetch(`${ORIGIN}/openapi.json`)).json()) as {
    paths: Record<string, { get?: ServedGet }>;
  };
  const gets = Object.entries(doc.paths).flatMap(([path, item]) => (item.get ? [[path, item.get] as const] : []));
  const etagged = ([, get]: Entry) => "ETag" in (get.responses["200"]?.headers ?? {});
  return {
    gets,
    tagged: gets.filter(etagged),
    untagged: gets.filter((entry) => entry[1].responses["200"] !== undefined && !etagged(entry)),
  };
}
