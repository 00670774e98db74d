import { ETAG_HEADER } from "./blocks";

/**
 * The contract of kernel/http/not-modified.ts: a GET whose 200 declares an `ETag` can answer
 * `304 Not Modified` to an `If-None-Match` naming it, and `412` to an `If-Match` naming none of
 * it (400 when not entity-tags), whatever route it is, so the document declares both headers and
 * the 304 there (as the file download declares its own); the 412 and the 400 follow from the
 * declared `If-Match` (common-responses.ts). Pure.
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

const IF_MATCH = {
  name: "If-Match",
  in: "header",
  required: false,
  description:
    'The `ETag` the client expects (`"3"`, or `3`; compared strongly: a weak tag `W/"3"` never matches), a list of them, or `*`: 412 `version_conflict` with the current `ETag` when none is current, weighed before `If-None-Match`. A value that is not entity-tags is 400',
  schema: { type: "string" },
};

const NOT_MODIFIED = {
  description: "not modified: `If-None-Match` names the current `ETag` (no body; the client's copy is current)",
  headers: ETAG_HEADER,
};

/** Whether a response declares an `ETag` header. */
export const declaresEtag = (response: unknown) =>
  typeof response === "object" &&
  response !== null &&
  "headers" in response &&
  typeof response.headers === "object" &&
  response.headers !== null &&
  "ETag" in response.headers;

const names = (header: string) => (p: unknown) =>
  typeof p === "object" && p !== null && "name" in p && String(p.name).toLowerCase() === header;

/**
 * The GET operation with `If-Match`, `If-None-Match` and a 304 declared when its 200 carries an
 * `ETag`; else as it was. What the operation declares itself (a file's headers, its 304) is kept.
 *
 * @example
 * withNotModified({ responses: { 200: { description: "a post", headers: ETAG_HEADER } } }).responses?.[304];
 */
export function withNotModified<O extends Operation>(op: O): O {
  const responses = op.responses ?? {};
  if (!declaresEtag(responses["200"])) return op;
  const declared = op.parameters ?? [];
  const parameters = [
    ...declared,
    ...(declared.some(names("if-match")) ? [] : [IF_MATCH]),
    ...(declared.some(names("if-none-match")) ? [] : [IF_NONE_MATCH]),
  ];
  return {
    ...op,
    parameters,
    responses: "304" in responses ? responses : { ...responses, 304: NOT_MODIFIED },
  };
}
