/**
 * HTTP-date (RFC 9110 §5.6.7): the three formats a recipient must accept, read strictly, so a
 * field that is not one (`yesterday`, an ISO date) is "not a valid HTTP-date", which the
 * conditional fields say to ignore. `Date.parse` would accept those and more, and read the
 * asctime form in the isolate's time zone.
 */

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = `(${MONTHS.join("|")})`;
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete) */
const RFC850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` (obsolete, C's asctime) */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** Milliseconds since the epoch of the fields, or null when they name no real instant (Feb 30, 25:00). */
function instant(year: number, month: string, day: number, h: number, m: number, s: number): number | null {
  const mon = MONTHS.indexOf(month);
  const ms = Date.UTC(year, mon, day, h, m, s);
  const back = new Date(ms);
  const exact =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === mon &&
    back.getUTCDate() === day &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === m &&
    back.getUTCSeconds() === s;
  return exact ? ms : null;
}

/**
 * The instant an HTTP-date names, in milliseconds since the epoch; null when `value` is not one.
 * A two-digit rfc850 year is 19xx from 70, else 20xx (RFC 9110 reads it against the current
 * year; a pure function has none, and the two agree until 2070).
 *
 * @example
 * parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"); // 784111777000
 * parseHttpDate("1994-11-06T08:49:37Z"); // null
 */
export function parseHttpDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  let m = IMF_FIXDATE.exec(v);
  if (m) return instant(Number(m[3]), m[2] ?? "", Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850.exec(v);
  if (m) {
    const yy = Number(m[3]);
    return instant(
      yy >= 70 ? 1900 + yy : 2000 + yy,
      m[2] ?? "",
      Number(m[1]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
    );
  }
  m = ASCTIME.exec(v);
  if (m) return instant(Number(m[6]), m[1] ?? "", Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  return null;
}

/**
 * An instant as an IMF-fixdate (`Last-Modified`), to the second below it.
 *
 * @example
 * formatHttpDate(784111777999); // "Sun, 06 Nov 1994 08:49:37 GMT"
 */
export const formatHttpDate = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toUTCString();
