import { ETAG_HEADER } from "./blocks";

/**
 * The contract of kernel/http/not-modified.ts: a GET whose 200 declares an `ETag` can answer
 * `304 Not Modified` to an `If-None-Match` naming it, whatever route it is, so the document
 * declares the header and the 304 there (as the file download declares its own). Pure.
 */

/** The parts of an operation read and extended. */
interface Operation {
  parameters?: unknown[];
  responses?: Record<string, unknown>;
}

const IF_NONE_MATCH = {
  name: "If-None-Match",
  in: "header",
  required: false,
  description:
    'The `ETag` of the copy the client holds (`"3"`, `W/"3"`: compared weakly), a list of them, or `*`: 304 with no body when it names the current version. A value that is not entity-tags is ignored',
  schema: { type: "string" },
};

const NOT_MODIFIED = {
  description: "not modified: `If-None-Match` names the current `ETag` (no body; the client's copy is current)",
  headers: ETAG_HEADER,
};

const declaresEtag = (response: unknown) =>
  typeof response === "object" &&
  response !== null &&
  "headers" in response &&
  typeof response.headers === "object" &&
  response.headers !== null &&
  "ETag" in response.headers;

const namesIfNoneMatch = (p: unknown) =>
  typeof p === "object" && p !== null && "name" in p && String(p.name).toLowerCase() === "if-none-match";

/**
 * The GET operation with `If-None-Match` and a 304 declared when its 200 carries an `ETag`;
 * else as it was. What the operation declares itself (a file's 304) is kept.
 *
 * @example
 * withNotModified({ responses: { 200: { description: "a post", headers: ETAG_HEADER } } }).responses?.[304];
 */
export function withNotModified<O extends Operation>(op: O): O {
  const responses = op.responses ?? {};
  if (!declaresEtag(responses["200"])) return op;
  const parameters = op.parameters ?? [];
  return {
    ...op,
    parameters: parameters.some(namesIfNoneMatch) ? parameters : [...parameters, IF_NONE_MATCH],
    responses: "304" in responses ? responses : { ...responses, 304: NOT_MODIFIED },
  };
}
