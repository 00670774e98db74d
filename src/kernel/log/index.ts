import { isoNow, systemClock } from "../clock";
import type { LogLevel } from "../config";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/** Structured JSON logger: one object per line, with bound fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. request_id, tenant_id). */
  child(fields: LogFields): Logger;
}

/** Where log lines go; the console in the Worker, an array in tests. */
export type LogSink = (level: LogLevel, line: string) => void;

const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/** Turns an Error into loggable fields, keeping the stack for operators. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    return { error_name: error.name, error_message: error.message, stack: error.stack };
  }
  return { error_message: String(error) };
}

/**
 * Creates a logger writing JSON lines at `level` and above.
 *
 * @example
 * const log = createLogger("info").child({ request_id: "abc" });
 * log.info("request", { status: 200 });
 * // {"level":"info","time":"…","msg":"request","request_id":"abc","status":200}
 */
export function createLogger(level: LogLevel, bound: LogFields = {}, sink: LogSink = consoleSink): Logger {
  const threshold = RANK[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < threshold) return;
    const line = { level: lvl, time: isoNow(systemClock), msg, ...bound, ...fields };
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ level: lvl, time: line.time, msg, ...bound, log_error: "unserialisable fields" });
    }
    sink(lvl, text);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger(level, { ...bound, ...fields }, sink),
  };
}
