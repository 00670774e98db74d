import http from "node:http";

/** One request as sent. */
export interface Outgoing {
  method: string;
  /** Path and query, e.g. `/api/v1/users?limit=5`. */
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One response as received. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Sends one request on a connection of its own (no keep-alive: Prism's
 * keep-alive connections can stall a client) and gives up after `timeoutMs`.
 * With `Expect: 100-continue` the body waits for the server to ask for it, so
 * a server that refuses on the headers (413 by `Content-Length`) answers
 * before the body is sent, instead of resetting the connection under it.
 */
export function send(origin: string, req: Outgoing, timeoutMs = 15_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = Buffer.byteLength(req.body);
    let answered = false;
    const url = new URL(req.url, origin).href;
    const outgoing = http.request(url, { method: req.method, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const done = () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() });
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", done);
      // A server that answers before reading the whole body (413) may close the connection under the rest of it.
      res.on("close", done);
    });
    outgoing.setTimeout(timeoutMs, () =>
      outgoing.destroy(new Error(`${req.method} ${req.url}: no answer within ${timeoutMs} ms`)),
    );
    outgoing.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (req.headers?.expect?.toLowerCase() === "100-continue") {
      outgoing.on("continue", () => outgoing.end(req.body));
      outgoing.flushHeaders();
    } else {
      outgoing.end(req.body);
    }
  });
}
