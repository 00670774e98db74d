// The edges of a string schema's `pattern`, for the OpenAPI walk (fuzz-schema.ts): fast-check's
// stringMatching draws short repetitions, so a value at a pattern's bound (a `{0,62}` at 62, a
// `[0-9]*` past the safe integers) is rarely drawn, and a route that admits what the object behind
// it refuses (a 500) went unseen. Reads the regex shapes the served document uses: literals,
// escapes (\d, \w, \s, escaped punctuation), classes (ranges, negated), groups ((…), (?:…),
// lookaheads, which stand for nothing), alternation, ?, *, +, {m}, {m,}, {m,n}, and ^ $.
// Anything else (a backreference, \b) yields no edges: the walk draws as it did before.

type Range = [number, number];
type Node =
  | { kind: "chars"; ranges: Range[]; negated: boolean }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; options: Node[] }
  | { kind: "repeat"; node: Node; min: number; max: number; id: number };

const DIGITS: Range = [48, 57];
const CLASS_ESCAPES: Record<string, Range[]> = {
  d: [DIGITS],
  w: [DIGITS, [65, 90], [95, 95], [97, 122]],
  s: [[32, 32]],
};
const EMPTY: Node = { kind: "seq", items: [] };

class Unsupported extends Error {}

/** A parser of the subset above; throws Unsupported on anything else. */
function parse(source: string): Node {
  let at = 0;
  let repeats = 0;
  const peek = () => source[at];
  const literal = (ch: string): Node => {
    const c = ch.codePointAt(0) ?? 0;
    return { kind: "chars", ranges: [[c, c]], negated: false };
  };

  function escaped(): Range[] | string {
    const ch = source[at++];
    if (ch === undefined) throw new Unsupported("trailing \\");
    if (CLASS_ESCAPES[ch]) return CLASS_ESCAPES[ch];
    if (/[a-zA-Z0-9]/.test(ch)) throw new Unsupported(`\\${ch}`);
    return ch;
  }

  function charClass(): Node {
    const negated = peek() === "^";
    if (negated) at++;
    const ranges: Range[] = [];
    let first = true;
    while (peek() !== "]" || first) {
      first = false;
      let ch = source[at++];
      if (ch === undefined) throw new Unsupported("unclosed class");
      if (ch === "\\") {
        const e = escaped();
        if (typeof e !== "string") {
          ranges.push(...e);
          continue;
        }
        ch = e;
      }
      const lo = ch.codePointAt(0) ?? 0;
      if (peek() === "-" && source[at + 1] !== "]" && source[at + 1] !== undefined) {
        at++;
        let hi = source[at++] ?? "";
        if (hi === "\\") {
          const e = escaped();
          if (typeof e !== "string") throw new Unsupported("class escape as a range end");
          hi = e;
        }
        ranges.push([lo, hi.codePointAt(0) ?? lo]);
      } else ranges.push([lo, lo]);
    }
    at++;
    return { kind: "chars", ranges, negated };
  }

  function atom(): Node {
    const ch = source[at++] ?? "";
    if (ch === "^" || ch === "$") return EMPTY;
    if (ch === ".") return { kind: "chars", ranges: [[10, 10]], negated: true };
    if (ch === "[") return charClass();
    if (ch === "\\") {
      const e = escaped();
      return typeof e === "string" ? literal(e) : { kind: "chars", ranges: e, negated: false };
    }
    if (ch === "(") {
      let lookahead = false;
      if (source.startsWith("?:", at)) at += 2;
      else if (source.startsWith("?=", at) || source.startsWith("?!", at)) {
        at += 2;
        lookahead = true;
      } else if (peek() === "?") throw new Unsupported("group kind");
      const inner = alternation();
      if (source[at++] !== ")") throw new Unsupported("unclosed group");
      // A lookahead constrains, it adds nothing: the RegExp check of each value enforces it.
      return lookahead ? EMPTY : inner;
    }
    if ("*+?{})|".includes(ch)) throw new Unsupported(`stray ${ch}`);
    return literal(ch);
  }

  function quantified(): Node {
    const node = atom();
    const q = peek();
    let min: number;
    let max: number;
    if (q === "?" || q === "*" || q === "+") {
      at++;
      [min, max] = q === "?" ? [0, 1] : q === "*" ? [0, Number.POSITIVE_INFINITY] : [1, Number.POSITIVE_INFINITY];
    } else if (q === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
      if (!m) return node;
      at += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
    } else return node;
    if (peek() === "?") at++; // lazy: the same strings
    return { kind: "repeat", node, min, max, id: repeats++ };
  }

  function sequence(): Node {
    const items: Node[] = [];
    while (at < source.length && peek() !== "|" && peek() !== ")") items.push(quantified());
    return { kind: "seq", items };
  }

  function alternation(): Node {
    const options = [sequence()];
    while (peek() === "|") {
      at++;
      options.push(sequence());
    }
    return options.length === 1 ? (options[0] as Node) : { kind: "alt", options };
  }

  const tree = alternation();
  if (at !== source.length) throw new Unsupported("unbalanced )");
  return tree;
}

/** Which edge: each quantifier at its minimum, at its bound, or digit runs past the safe integers. */
type Mode = "shortest" | "longest" | "digits";

// A negated class (`[^/@]`, `.`) draws the first of these it admits.
const FALLBACK = [..."azAZ09_-.~"].map((c) => c.codePointAt(0) ?? 0);

function admits(n: Node & { kind: "chars" }, c: number): boolean {
  return n.ranges.some(([lo, hi]) => c >= lo && c <= hi) !== n.negated;
}

/** Whether every character the class admits is a digit, so a run of it is a number. */
function digitsOnly(n: Node): boolean {
  return n.kind === "chars" && !n.negated && n.ranges.every(([lo, hi]) => lo >= 48 && hi <= 57);
}

/** A run of digits that is past the safe integers when read: `\d+`, `[0-9]*`, `\d{1,k}` with k ≥ 16. */
function longDigitRun(n: Node & { kind: "repeat" }): boolean {
  return digitsOnly(n.node) && n.max >= 16;
}

function contains(n: Node, test: (r: Node & { kind: "repeat" }) => boolean): boolean {
  if (n.kind === "repeat") return test(n) || contains(n.node, test);
  if (n.kind === "seq") return n.items.some((i) => contains(i, test));
  if (n.kind === "alt") return n.options.some((o) => contains(o, test));
  return false;
}

/**
 * One string for `n`: in "longest" each class at its highest character (a ULID's `Z`), in
 * "shortest" at its lowest, in "digits" at `9` where it admits one. `stretch` adds copies to one unbounded quantifier (and takes
 * the groups around it), so a value can reach the schema's own length bounds.
 */
function render(n: Node, mode: Mode, stretch?: { id: number; extra: number }): string {
  switch (n.kind) {
    case "chars": {
      if (n.negated) return String.fromCodePoint(FALLBACK.find((c) => admits(n, c)) ?? 0x3000);
      const nine = admits(n, 57) && mode === "digits";
      const pick = nine
        ? 57
        : mode === "shortest"
          ? Math.min(...n.ranges.map((r) => r[0]))
          : Math.max(...n.ranges.map((r) => r[1]));
      return String.fromCodePoint(pick);
    }
    case "seq":
      return n.items.map((i) => render(i, mode, stretch)).join("");
    case "alt": {
      const all = n.options.map((o) => ({ o, s: render(o, mode, stretch) }));
      const wanted = all.filter(
        ({ o }) =>
          (stretch && contains(o, (r) => r.id === stretch.id)) || (mode === "digits" && contains(o, longDigitRun)),
      );
      const pool = wanted.length > 0 ? wanted : all;
      const by =
        mode === "shortest"
          ? (a: string, b: string) => a.length - b.length
          : (a: string, b: string) => b.length - a.length;
      return pool.map((p) => p.s).sort(by)[0] ?? "";
    }
    case "repeat": {
      let count = mode === "longest" && Number.isFinite(n.max) ? n.max : n.min;
      if (mode === "digits" && longDigitRun(n)) count = Math.min(n.max, Math.max(n.min, 20));
      else if (mode === "digits" && contains(n.node, longDigitRun)) count = Math.max(count, 1);
      if (stretch && n.id === stretch.id) count = n.min + stretch.extra;
      else if (stretch && contains(n.node, (r) => r.id === stretch.id)) count = Math.max(count, 1);
      return render(n.node, mode, stretch).repeat(count);
    }
  }
}

function unboundedIds(n: Node): number[] {
  if (n.kind === "repeat") return [...(Number.isFinite(n.max) ? [] : [n.id]), ...unboundedIds(n.node)];
  if (n.kind === "seq") return n.items.flatMap(unboundedIds);
  if (n.kind === "alt") return n.options.flatMap(unboundedIds);
  return [];
}

/**
 * Strings `pattern` admits at its edges, within `[minLength, maxLength]`: the shortest (each
 * quantifier at its minimum), the longest its bounded quantifiers allow, and, where it admits a
 * long run of digits, one of 20 digits (past 2^53); each stretched along its first unbounded
 * quantifier to the length bound it misses. Every value is checked against the pattern itself;
 * none for a pattern this reader does not cover.
 */
export function patternEdges(pattern: string, minLength = 0, maxLength?: number): string[] {
  let tree: Node;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
    tree = parse(pattern);
  } catch {
    return [];
  }
  const first = unboundedIds(tree)[0];
  const out = new Set<string>();
  const modes: Mode[] = contains(tree, longDigitRun) ? ["shortest", "longest", "digits"] : ["shortest", "longest"];
  for (const mode of modes) {
    const plain = render(tree, mode);
    out.add(plain);
    // Up to the schema's bound: the longest to maxLength, the shortest to minLength.
    const target = mode === "shortest" ? minLength : Math.min(maxLength ?? 0, 8192);
    if (first !== undefined && plain.length < target) {
      const one =
        render(tree, mode, { id: first, extra: 1 }).length - render(tree, mode, { id: first, extra: 0 }).length;
      const base = render(tree, mode, { id: first, extra: 0 });
      if (one > 0) out.add(render(tree, mode, { id: first, extra: Math.floor((target - base.length) / one) }));
    }
  }
  return [...out].filter((v) => re.test(v) && v.length >= minLength && v.length <= (maxLength ?? 8192));
}
