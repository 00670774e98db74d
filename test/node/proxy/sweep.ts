import { type Answer, type Outgoing, send } from "./http";

/** The parts of an operation in the served document the sweep reads. */
export interface DocOperation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

/** The served OpenAPI document, as far as the sweep reads it. */
export interface ServedDocument {
  paths: Record<string, Record<string, DocOperation>>;
}

/** One request of the sweep: an operation (`METHOD /path/{param}`) and what to send. */
export interface Call {
  op: string;
  /** What the request is, for the report. */
  label: string;
  /** `valid`: the document says the request is fine; `error`: it is wrong on purpose. */
  intent: "valid" | "error";
  expect: number;
  /** The problem `code` expected with an error status. */
  code?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `headers`' content-type. */
  raw?: string | Buffer;
  /** Straight to the Worker: for what Prism cannot carry (oversize or malformed bodies). */
  direct?: boolean;
}

/** What happened to one request. */
export interface Exchange {
  call: Call;
  status: number;
  code: string | undefined;
  /** Prism's findings on the request (`request.…`). */
  requestViolations: string[];
  /** Prism's findings on the response (`response.…`), or, for a direct request, the sweep's own. */
  responseViolations: string[];
  body: string;
}

interface PrismViolation {
  location?: string[];
  message?: string;
}

/** Prism's `sl-violations` header, as `location message` lines. */
function violationsOf(answer: Answer): { request: string[]; response: string[] } {
  const header = answer.headers["sl-violations"];
  const raw = Array.isArray(header) ? header.join("") : header;
  const found = { request: [] as string[], response: [] as string[] };
  if (!raw) return found;
  let list: PrismViolation[];
  try {
    list = JSON.parse(raw) as PrismViolation[];
  } catch {
    // Prism cuts a long list short ("Too many violations! …"): keep it whole as one finding.
    found.response.push(raw);
    return found;
  }
  for (const v of list) {
    const where = (v.location ?? []).join(".");
    (where.startsWith("request") ? found.request : found.response).push(`${where} ${v.message ?? ""}`.trim());
  }
  return found;
}

/** The operation `METHOD /path` names in the document. */
export function operationOf(doc: ServedDocument, op: string): DocOperation | undefined {
  const [method = "", path = ""] = op.split(" ");
  return doc.paths[path]?.[method.toLowerCase()];
}

/**
 * What the document says about a status answered outside Prism: whether the
 * operation lists it (or its range) and the media type it came with.
 */
function checkDirect(doc: ServedDocument, op: string, answer: Answer): string[] {
  const responses = operationOf(doc, op)?.responses ?? {};
  const declared = responses[String(answer.status)] ?? responses[`${String(answer.status).charAt(0)}XX`];
  if (!declared) return [`response.status ${answer.status} is not documented`];
  const type =
    String(answer.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim() ?? "";
  const types = Object.keys(declared.content ?? {});
  if (types.length > 0 && !types.includes(type)) return [`response.header content-type ${type} is not one of ${types}`];
  return [];
}

/**
 * Sends the sweep's requests in order, through Prism unless a call says
 * `direct`, and keeps every exchange for the assertions.
 */
export class Sweep {
  readonly exchanges: Exchange[] = [];

  constructor(
    readonly doc: ServedDocument,
    private readonly prism: string,
    private readonly worker: string,
  ) {}

  /** Requests Prism failed to forward and sent again (see {@link transport}). */
  retried = 0;

  /**
   * Sends a request through Prism, or straight to the Worker. When the Worker
   * refuses a request before reading its body, workerd may close the connection
   * while Prism's client still writes the body, and Prism answers its own 500
   * `FetchError`: a race of the local HTTP stack, not an answer of plinth's. A
   * refused request changed nothing, so an error request is sent again then.
   */
  private async transport(call: Call, req: Outgoing): Promise<Answer> {
    if (call.direct) return send(this.worker, req);
    for (let attempt = 1; ; attempt++) {
      const answer = await send(this.prism, req);
      const prismFailed = answer.status === 500 && answer.text.includes('"type":"FetchError"');
      if (!prismFailed || call.intent !== "error" || attempt === 3) return answer;
      this.retried++;
    }
  }

  /** Sends one call; resolves to its status, parsed JSON body (undefined when not JSON), any Location and cookies set. */
  async call(call: Call): Promise<{ status: number; json: unknown; location: string | undefined; cookies: string[] }> {
    const [method = "GET", template = "/"] = call.op.split(" ");
    const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(call.params?.[name] ?? ""));
    const query = call.query ? `?${new URLSearchParams(call.query)}` : "";
    const headers: Record<string, string> = { accept: "application/json, application/problem+json", ...call.headers };
    let body: string | Buffer | undefined = call.raw;
    if (call.json !== undefined) {
      body = JSON.stringify(call.json);
      headers["content-type"] ??= "application/json";
    }
    const answer = await this.transport(call, { method, url: path + query, headers, body });
    let json: unknown;
    try {
      json = answer.text ? JSON.parse(answer.text) : undefined;
    } catch {
      json = undefined;
    }
    const found = call.direct
      ? { request: [], response: checkDirect(this.doc, call.op, answer) }
      : violationsOf(answer);
    const code = typeof json === "object" && json !== null && "code" in json ? String(json.code) : undefined;
    this.exchanges.push({
      call,
      status: answer.status,
      code,
      requestViolations: found.request,
      responseViolations: found.response,
      body: answer.text.slice(0, 300),
    });
    const location = answer.headers.location;
    // Each Set-Cookie's name=value, as a browser would send it back.
    const cookies = (answer.headers["set-cookie"] ?? []).map((line) => line.split(";")[0] ?? "");
    return {
      status: answer.status,
      json,
      location: Array.isArray(location) ? location[0] : location,
      cookies,
    };
  }

  /** Like {@link call}, for a request whose answer later steps build on: throws unless it got `expect`. */
  async need<T = Record<string, unknown>>(call: Call): Promise<T> {
    const { status, json } = await this.call(call);
    if (status !== call.expect) {
      const last = this.exchanges.at(-1)?.body ?? "";
      throw new Error(`${call.op} (${call.label}) answered ${status}, expected ${call.expect}: ${last}`);
    }
    return json as T;
  }
}
