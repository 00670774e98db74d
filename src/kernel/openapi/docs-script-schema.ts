/**
 * The JSON Schema part of the API reference's browser script (docs-script.ts):
 * local `$ref` pointers, type labels, a schema's rules as chips, the readable
 * schema tree, and an example value for a schema. Spliced as text into that
 * script's one closure, so it uses the script's helpers (`spec`, `el`, `add`,
 * `isObj`, `FORMATS`, ...) and the script calls its functions. Same rules:
 * plain ES2020, text only through `textContent`, no backtick in it.
 */
export const DOCS_JS_SCHEMA: string = String.raw`  // Local "$ref"s are JSON pointers into the document ("#/components/schemas/X").
  function pointer(ref) {
    let node = ref.charAt(0) === "#" ? spec : undefined;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      const key = attempt(() => decodeURIComponent(raw), raw).replace(/~1/g, "/").replace(/~0/g, "~");
      node = node !== null && typeof node === "object" && own(node, key) ? node[key] : undefined;
    }
    return node;
  }
  function deref(obj) {
    for (let i = 0; i < 32 && isRef(obj) && pointer(obj.$ref) !== undefined; i++) obj = pointer(obj.$ref);
    return obj;
  }
  function typeLabel(s, depth = 0) {
    if (!isObj(s)) return "any";
    let t = Array.isArray(s.type) ? s.type.join(" | ") : s.type ? String(s.type)
      : s.properties || s.additionalProperties ? "object" : s.items ? "array"
      : s.const !== undefined ? typeof s.const : Array.isArray(s.enum) && s.enum.length ? typeof s.enum[0]
      : s.oneOf ? "one of" : s.anyOf ? "any of" : s.allOf ? "all of" : "any";
    const it = s.items;
    if (t === "array" && isObj(it) && depth < 4) t = "array of " + (isRef(it) ? refName(it.$ref) : typeLabel(it, depth + 1));
    if (s.format) t += " (" + s.format + ")";
    return s.nullable ? t + " | null" : t;
  }
  // Human-readable validation rules of a schema, one chip each.
  function constraints(s) {
    const out = [], num = (k) => typeof s[k] === "number" && Math.abs(s[k]) < Number.MAX_SAFE_INTEGER; // skip safe-int noise
    const range = (lo, hi, unit) => {
      if (num(lo) && num(hi)) out.push((s[lo] === s[hi] ? "exactly " + s[lo] : s[lo] + ".." + s[hi]) + " " + unit);
      else if (num(lo) || num(hi)) out.push((num(lo) ? "at least " + s[lo] : "at most " + s[hi]) + " " + unit);
    };
    if (Array.isArray(s.enum)) out.push("enum: " + s.enum.map(json).join(", "));
    if (s.const !== undefined) out.push("const: " + json(s.const));
    if (num("minimum")) out.push((s.exclusiveMinimum === true ? "> " : ">= ") + s.minimum); // 3.0 boolean form
    if (num("maximum")) out.push((s.exclusiveMaximum === true ? "< " : "<= ") + s.maximum);
    if (num("exclusiveMinimum")) out.push("> " + s.exclusiveMinimum);
    if (num("exclusiveMaximum")) out.push("< " + s.exclusiveMaximum);
    if (num("multipleOf")) out.push("multiple of " + s.multipleOf);
    for (const unit of ["Length", "Items", "Properties"]) range("min" + unit, "max" + unit, unit === "Length" ? "chars" : unit.toLowerCase());
    if (s.uniqueItems === true) out.push("unique items");
    if (typeof s.pattern === "string" && !s.format) out.push("pattern: " + (s.pattern.length > 60 ? s.pattern.slice(0, 60) + "\u2026" : s.pattern));
    if (s.default !== undefined) out.push("default: " + json(s.default));
    if (s.example !== undefined) out.push("example: " + json(s.example).slice(0, 80));
    for (const k of ["readOnly", "writeOnly", "deprecated"]) if (s[k] === true) out.push(k === "deprecated" ? k : k.slice(0, -4) + "-only");
    return out;
  }
  const isPlain = (s) => isObj(s) && !isRef(s) && !s.properties && !s.items && !s.additionalProperties &&
    !s.oneOf && !s.anyOf && !s.allOf && !s.description && constraints(s).length === 0;
  // A readable tree of a JSON schema; "seen" holds the $refs on the current path (cycle guard).
  function schemaNode(input, name, required, seen, depth) {
    const row = el("div", "sch");
    const head = add(row, el("div", "sch-head")).lastChild;
    add(head, name !== null ? el("code", "sch-name", name) : null, required ? el("span", "req", "required") : null);
    let s = input;
    const ref = isRef(s) ? s.$ref : null;
    if (ref) { // show the name of the referenced schema, then expand it once per path
      if (seen.indexOf(ref) >= 0) return add(head, el("span", "sch-type", refName(ref)), el("span", "sch-ref", "(recursive, see above)")) && row;
      s = deref(s);
      if (isRef(s)) return add(head, el("span", "sch-type", s.$ref), el("span", "sch-ref", "(unresolved)")) && row;
      seen = seen.concat([ref]);
    }
    if (!isObj(s)) return add(head, el("span", "sch-type", s === false ? "never" : "any")) && row;
    add(head, el("span", "sch-type", typeLabel(s)), ref || s.title ? el("span", "sch-ref", ref ? refName(ref) : s.title) : null);
    for (const c of constraints(s)) head.appendChild(el("span", "chip", c));
    if (s.description) row.appendChild(el("p", "sch-desc", s.description));
    if (depth > 14) return row;
    const kids = el("div", "sch-kids");
    const child = (sub, label, req) => kids.appendChild(schemaNode(sub, label, req, seen, depth + 1));
    const props = isObj(s.properties) ? s.properties : {};
    for (const key of Object.keys(props)) child(props[key], key, Array.isArray(s.required) && s.required.indexOf(key) >= 0);
    if (isObj(s.additionalProperties)) child(s.additionalProperties, "[key: string]", false);
    if (isObj(s.items) && !isPlain(s.items)) child(s.items, "[items]", false);
    for (const k of ["allOf", "oneOf", "anyOf"]) for (const [i, sub] of (Array.isArray(s[k]) ? s[k] : []).entries()) child(sub, "[" + k + " #" + (i + 1) + "]", false);
    return add(row, kids.firstChild ? kids : null);
  }
  const schemaBox = (schema) => add(el("div", "schema"), schemaNode(schema, null, false, [], 0));
  // Example value of a schema: example, examples[0], default, const, enum[0], else a typed placeholder.
  function example(input, seen, depth) {
    if (isRef(input) && (seen.indexOf(input.$ref) >= 0 || depth > 10)) return null;
    if (isRef(input)) seen = seen.concat([input.$ref]);
    const s = deref(input);
    if (!isObj(s)) return null;
    for (const v of [s.example, Array.isArray(s.examples) ? s.examples[0] : undefined, s.default, s.const]) if (v !== undefined) return v;
    if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
    const next = (sub) => example(sub, seen, depth + 1);
    const parts = Array.isArray(s.allOf) && s.allOf.length ? s.allOf.map(next) : null; // merge allOf objects
    if (parts) return parts.every(isObj) ? Object.assign({}, ...parts) : parts[0];
    const alts = s.oneOf || s.anyOf;
    if (Array.isArray(alts) && alts.length) return next(alts.find((a) => !(isObj(a) && a.type === "null")) || alts[0]);
    const t = (Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type) || (s.properties ? "object" : s.items ? "array" : "");
    const props = isObj(s.properties) ? s.properties : {};
    const writable = Object.keys(props).filter((key) => !(isObj(deref(props[key])) && deref(props[key]).readOnly));
    if (t === "object") return Object.fromEntries(writable.map((key) => [key, next(props[key])]));
    if (t === "array") return s.items && depth < 10 ? [next(s.items)] : [];
    if (t === "integer" || t === "number") { // 0 when allowed, else the nearest bound
      const lo = typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : typeof s.minimum === "number" ? s.minimum + (s.exclusiveMinimum === true ? 1 : 0) : -Infinity;
      const hi = typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - 1 : typeof s.maximum === "number" ? s.maximum - (s.exclusiveMaximum === true ? 1 : 0) : Infinity;
      return lo <= 0 && hi >= 0 ? 0 : lo > 0 ? lo : hi;
    }
    if (t !== "string") return t === "boolean" ? true : null;
    let v = own(FORMATS, s.format) ? FORMATS[s.format] : "string";
    while (typeof s.minLength === "number" && v.length < s.minLength) v += "x";
    return typeof s.maxLength === "number" ? v.slice(0, Math.max(s.maxLength, 0)) : v;
  }
`;
