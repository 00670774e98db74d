/**
 * The API reference's browser script, served as `/docs/app.js`: plain ES2020
 * that renders `/openapi.json` by tag and offers a same-origin "Try it" panel
 * per operation. Text from the spec or from responses only ever goes through
 * `textContent` (never `innerHTML`), and no eval, inline handler or inline
 * style is used, so it runs under the docs page's strict CSP.
 *
 * Its JSON Schema part (refs, type labels, constraint chips, the schema tree,
 * example values) is docs-script-schema.ts's, spliced in where it stood.
 */
import { DOCS_JS_SCHEMA } from "./docs-script-schema";

export const DOCS_JS: string = String.raw`(() => {
  "use strict";
  const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const KEYS = { token: "plinth.docs.token", tenant: "plinth.docs.tenant" };
  const FORMATS = {
    "date-time": "2025-01-01T00:00:00Z", date: "2025-01-01", time: "12:00:00Z", email: "user@example.com",
    uuid: "00000000-0000-4000-8000-000000000000", uri: "https://example.com", url: "https://example.com",
    hostname: "example.com", ipv4: "192.0.2.1", ipv6: "2001:db8::1", byte: "c3RyaW5n", password: "********",
  };
  const groups = [], usedIds = new Set();
  let spec = {}, uid = 0, emptyNote = null;
  const $ = (id) => document.getElementById(id);
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isRef = (v) => isObj(v) && typeof v.$ref === "string";
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const refName = (ref) => ref.split("/").pop();
  const errText = (err) => (err && err.message ? err.message : String(err));
  // The only DOM builders: text always goes in through textContent.
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent, ...kids) {
    for (const kid of kids) if (kid) parent.appendChild(kid);
    return parent;
  }
  const attempt = (fn, fallback) => { try { return fn(); } catch (e) { return fallback; } };
  const json = (v) => attempt(() => JSON.stringify(v) ?? String(v), String(v));
  const readStore = (key) => attempt(() => sessionStorage.getItem(key) || "", "");
  const writeStore = (key, v) => attempt(() => (v ? sessionStorage.setItem(key, v) : sessionStorage.removeItem(key)));
${DOCS_JS_SCHEMA}  function collectOps() {
    const ops = [];
    const paths = isObj(spec.paths) ? spec.paths : {};
    for (const path of Object.keys(paths)) {
      const item = isObj(deref(paths[path])) ? deref(paths[path]) : {};
      for (const method of METHODS) {
        const op = item[method];
        if (!isObj(op)) continue;
        const params = new Map(); // operation parameters override the path's ones of the same name and place
        for (const p of [].concat(item.parameters || [], op.parameters || []).map(deref)) {
          if (isObj(p) && typeof p.name === "string") params.set(p.in + ":" + p.name, p);
        }
        const tag = Array.isArray(op.tags) && op.tags.length ? String(op.tags[0]) : "default";
        ops.push({ path, method, op, tag, params: Array.from(params.values()) });
      }
    }
    return ops;
  }
  // An operation's own "security" wins over the global one; an empty requirement ({}) makes auth optional.
  function authInfo(op) {
    const reqs = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : [];
    const names = Array.from(new Set(reqs.flatMap((r) => (isObj(r) ? Object.keys(r) : []))));
    return names.length ? { names, optional: reqs.some((r) => !isObj(r) || !Object.keys(r).length) } : null;
  }
  const badge = (method) => el("span", "badge m-" + method, method);
  const section = (title, ...kids) => add(el("div", "op-section"), el("h4", "op-h", title), ...kids);
  function paramsSection(params) {
    if (!params.length) return section("Parameters", el("p", "muted", "No parameters."));
    const tbody = el("tbody");
    for (const p of params) {
      const s = deref(p.schema);
      const type = add(el("td"), el("span", "sch-type", typeLabel(s)));
      for (const c of isObj(s) ? constraints(s) : []) add(type, document.createTextNode(" "), el("span", "chip", c));
      tbody.appendChild(add(el("tr"), add(el("td"), el("code", null, p.name), p.required ? el("span", "req", "required") : null),
        el("td", null, p.in), type, el("td", null, (p.description || "") + (p.deprecated ? " (deprecated)" : ""))));
    }
    const thead = add(el("thead"), add(el("tr"), ...["Name", "In", "Type", "Description"].map((h) => el("th", null, h))));
    return section("Parameters", add(el("div", "table-wrap"), add(el("table", "params"), thead, tbody)));
  }
  function contentBlocks(parent, content) {
    for (const ct of Object.keys(isObj(content) ? content : {})) {
      const media = isObj(content[ct]) ? content[ct] : {};
      const schema = media.schema !== undefined ? schemaBox(media.schema) : el("p", "muted", "No schema.");
      parent.appendChild(add(el("div", "media"), el("code", "media-type", ct), schema));
    }
    return parent;
  }
  function bodySection(rb) {
    const box = section("Request body" + (rb.required ? "" : " (optional)"), rb.description ? el("p", "sch-desc", rb.description) : null);
    return contentBlocks(box, rb.content);
  }
  function responsesSection(responses) {
    const codes = isObj(responses) ? Object.keys(responses) : [];
    const box = section("Responses", codes.length ? null : el("p", "muted", "No responses documented."));
    for (const code of codes) {
      const r = isObj(deref(responses[code])) ? deref(responses[code]) : {};
      const status = el("span", "status " + (/^[1-5]/.test(code) ? "s" + code.charAt(0) : "sx"), code);
      box.appendChild(contentBlocks(add(el("div", "resp"), add(el("div", "resp-head"), status, el("span", "resp-desc", r.description || ""))), r.content));
    }
    return box;
  }
  function bodyExample(rb) {
    const types = isObj(rb) && isObj(rb.content) ? Object.keys(rb.content) : [];
    const ct = types.find((k) => /json/i.test(k));
    if (!ct) return { ct: null, other: types };
    const media = isObj(rb.content[ct]) ? rb.content[ct] : {};
    const named = isObj(media.examples) ? deref(Object.values(media.examples)[0]) : undefined;
    const ex = media.example ?? (isObj(named) ? named.value : undefined) ?? example(media.schema, [], 0);
    return { ct, text: JSON.stringify(ex ?? {}, null, 2) };
  }
  const button = (cls, text, onClick) => {
    const b = Object.assign(el("button", cls, text), { type: "button" });
    return b.addEventListener("click", onClick) || b;
  };
  function tryPanel(o, rb) {
    const box = add(el("div", "try"), el("h4", "op-h", "Try it"));
    const fields = [], grid = el("div", "try-grid");
    for (const p of o.params.filter((q) => q.in === "path" || q.in === "query" || q.in === "header")) {
      const s = isObj(deref(p.schema)) ? deref(p.schema) : {};
      const label = add(el("label", "try-label"), el("code", null, p.name), el("span", "try-in", p.in + (p.required ? ", required" : "")));
      const choices = Array.isArray(s.enum) ? s.enum : s.type === "boolean" ? [true, false] : null;
      const input = choices ? add(el("select"), ...[""].concat(choices).map((c) => el("option", null, String(c)))) : el("input");
      if (!choices) Object.assign(input, { type: "text", autocomplete: "off", spellcheck: false, placeholder: typeLabel(s) + (p.required ? " (required)" : "") });
      const preset = p.example ?? s.example ?? s.default;
      if (preset !== undefined && preset !== null) input.value = String(preset);
      Object.assign(input, { id: (label.htmlFor = "try-" + ++uid), className: "try-input" });
      fields.push({ p, input, multi: s.type === "array" });
      add(grid, label, input);
    }
    if (fields.length) box.appendChild(grid);
    const ex = bodyExample(rb);
    let area = null;
    if (ex.ct) {
      area = Object.assign(el("textarea", "try-body"), { id: "try-" + ++uid, spellcheck: false, value: ex.text });
      area.rows = Math.min(22, Math.max(4, ex.text.split("\n").length + 1));
      const lbl = Object.assign(el("label", "try-body-label", "Body (" + ex.ct + ", sent as application/json)"), { htmlFor: area.id });
      add(box, lbl, area);
    } else if (ex.other.length) {
      box.appendChild(el("p", "hint", "Try it sends JSON bodies only; this operation takes " + ex.other.join(", ") + "."));
    }
    if (!fields.length && !area && !ex.other.length) box.appendChild(el("p", "hint", "No parameters and no body."));
    const out = Object.assign(el("div", "try-out"), { hidden: true });
    out.setAttribute("aria-live", "polite");
    const btn = button("btn btn-primary", "Send", () => send(o, fields, area, out, btn));
    const actions = add(el("div", "try-actions"), btn);
    if (area) {
      add(actions, button("btn", "Reset body", () => { area.value = ex.text; }), el("span", "hint", "Ctrl+Enter sends"));
      area.addEventListener("keydown", (ev) => ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && (ev.preventDefault() || btn.click()));
    }
    return add(box, actions, out);
  }
  const showIn = (out, ...kids) => add(Object.assign(out, { hidden: false, textContent: "" }), ...kids);
  const showError = (out, message) => showIn(out, el("p", "notice notice-error", message));
  // Sends one request to the same origin; every failure is shown in "out", never thrown.
  async function send(o, fields, area, out, btn) {
    const method = o.method.toUpperCase();
    let url = o.path, started = 0;
    try {
      const query = new URLSearchParams(), headers = new Headers(), missing = [];
      for (const { p, input, multi } of fields) {
        const v = input.value.trim();
        if (!v) { if (p.required) missing.push(p.name + " (" + p.in + ")"); continue; }
        if (p.in === "path") url = url.split("{" + p.name + "}").join(encodeURIComponent(v));
        else if (p.in === "query") for (const part of multi ? v.split(",") : [v]) query.append(p.name, part.trim());
        else headers.set(p.name, v);
      }
      if (missing.length) return showError(out, "Missing required parameter: " + missing.join(", "));
      const token = $("auth-token").value.trim().replace(/^bearer\s+/i, ""), tenant = $("auth-tenant").value.trim();
      if (token && !headers.has("Authorization")) headers.set("Authorization", "Bearer " + token);
      if (tenant && !headers.has("X-Tenant")) headers.set("X-Tenant", tenant);
      if (!headers.has("Accept")) headers.set("Accept", "application/json, */*;q=0.5");
      let body;
      if (area && area.value.trim()) {
        try { JSON.parse(area.value); } catch (e) { return showError(out, "The body is not valid JSON: " + errText(e)); }
        body = area.value;
        headers.set("Content-Type", "application/json");
      }
      if (query.toString()) url += "?" + query.toString();
      btn.disabled = true;
      showIn(out, el("p", "hint", "Sending " + method + " " + url + "\u2026"));
      started = performance.now();
      const res = await fetch(url, { method, headers, body, credentials: "same-origin", cache: "no-store" });
      showResult(out, method + " " + url, res, await res.text(), Math.round(performance.now() - started));
    } catch (err) {
      const after = started ? " after " + Math.round(performance.now() - started) + " ms" : "";
      showError(out, "Request failed" + after + ": " + errText(err));
    }
    btn.disabled = false;
  }
  function showResult(out, request, res, text, ms) {
    const status = el("span", "status s" + String(res.status).charAt(0), res.status + " " + res.statusText);
    const lines = [];
    res.headers.forEach((value, name) => lines.push(name + ": " + value));
    const isJson = /json/i.test(res.headers.get("Content-Type") || "") || /^\s*[[{]/.test(text);
    const shown = isJson ? attempt(() => JSON.stringify(JSON.parse(text), null, 2), text) : text;
    showIn(out, add(el("div", "res-line"), status, el("span", "hint", ms + " ms"), el("code", "res-req", request)),
      el("div", "res-label", "Response headers"), el("pre", "pre", lines.join("\n") || "(none)"),
      el("div", "res-label", "Response body"), el("pre", "pre", shown === "" ? "(empty body)" : shown));
  }
  function renderOp(o) {
    const op = o.op;
    let id = "op-" + String(op.operationId || o.method + "-" + o.path).replace(/[^A-Za-z0-9_]+/g, "-").replace(/-$/, "");
    while (usedIds.has(id)) id += "-" + ++uid;
    usedIds.add(id);
    const d = Object.assign(el("details", "op m-" + o.method + (op.deprecated ? " deprecated" : "")), { id });
    const auth = authInfo(op);
    const sum = add(el("summary", "op-sum"), badge(o.method), el("code", "op-path", o.path), op.summary ? el("span", "op-summary", op.summary) : null);
    if (auth) sum.appendChild(el("span", "tag tag-auth", auth.optional ? "auth optional" : "auth")).title = "Security: " + auth.names.join(", ");
    if (op.deprecated) sum.appendChild(el("span", "tag tag-dep", "deprecated"));
    const authText = auth ? auth.names.join(" or ") + (auth.optional ? " (optional)" : " (required)") : "none";
    const meta = add(el("dl", "op-meta"), el("dt", null, "Operation ID"), add(el("dd"), el("code", null, op.operationId || "(none)")),
      el("dt", null, "Authentication"), el("dd", null, authText));
    const rb = deref(op.requestBody);
    return add(d, sum, add(el("div", "op-body"), op.description ? el("p", "op-desc", op.description) : null, meta,
      paramsSection(o.params), isObj(rb) ? bodySection(rb) : null, responsesSection(op.responses), tryPanel(o, rb)));
  }
  function render() {
    const info = isObj(spec.info) ? spec.info : {};
    if (info.title) document.title = info.title + " \u2013 plinth API reference";
    const title = add(el("h2", "intro-title"), el("span", null, info.title || "Untitled API"), info.version ? el("span", "version", info.version) : null);
    add($("content"), add(el("section", "intro"), title, el("p", "intro-meta", spec.openapi ? "OpenAPI " + spec.openapi : ""),
      info.description ? el("p", "intro-desc", info.description) : null));
    const byTag = new Map(), tagDocs = {}; // declared tags first, in their order
    for (const t of Array.isArray(spec.tags) ? spec.tags : []) if (isObj(t) && t.name) byTag.set(String(t.name), []) && (tagDocs[t.name] = t.description);
    const ops = collectOps();
    for (const o of ops) byTag.set(o.tag, (byTag.get(o.tag) || []).concat([o]));
    for (const [name, list] of byTag) {
      if (!list.length) continue;
      const group = { section: add(el("section", "group"), el("h2", "group-title", name), tagDocs[name] ? el("p", "group-desc", tagDocs[name]) : null), items: [] };
      const ul = el("ul", "toc-list"), toc = add(el("div", "toc-group"), el("div", "toc-title", name), ul);
      for (const o of list) {
        const node = add(group.section, renderOp(o)).lastChild;
        const link = Object.assign(add(el("a", "toc-link"), badge(o.method), el("span", "toc-path", o.path)), { href: "#" + node.id, title: o.op.summary || o.path });
        link.addEventListener("click", () => { node.open = true; });
        const li = add(ul, add(el("li"), link)).lastChild;
        group.items.push({ node, li, text: (o.method + " " + o.path + " " + (o.op.summary || "")).toLowerCase() });
      }
      groups.push(Object.assign(group, { toc }));
      add($("content"), group.section);
      add($("toc"), toc);
    }
    emptyNote = add($("content"), el("p", "notice", ops.length ? "No operation matches the filter." : "This API description has no operations.")).lastChild;
    applyFilter();
    openFromHash();
  }
  // Filters operations (and their table-of-contents entries) by method, path and summary.
  function applyFilter() {
    const q = $("filter").value.trim().toLowerCase();
    let shown = 0;
    for (const g of groups) {
      for (const e of g.items) shown += (e.node.hidden = e.li.hidden = !!q && e.text.indexOf(q) < 0) ? 0 : 1;
      g.section.hidden = g.toc.hidden = g.items.every((e) => e.node.hidden);
    }
    if (emptyNote) emptyNote.hidden = shown > 0;
  }
  function openFromHash() {
    const target = location.hash.length > 1 ? $(attempt(() => decodeURIComponent(location.hash.slice(1)), "")) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; target.scrollIntoView(); }
  }
  const allOps = () => groups.flatMap((g) => g.items.map((e) => e.node));
  async function init() {
    for (const [input, key] of [[$("auth-token"), KEYS.token], [$("auth-tenant"), KEYS.tenant]]) {
      input.value = readStore(key);
      input.addEventListener("input", () => writeStore(key, input.value.trim()));
    }
    $("creds").addEventListener("submit", (ev) => ev.preventDefault());
    $("filter").addEventListener("input", applyFilter);
    $("expand-all").addEventListener("click", () => allOps().forEach((d) => { d.open = d.open || !d.hidden; }));
    $("collapse-all").addEventListener("click", () => allOps().forEach((d) => { d.open = false; }));
    window.addEventListener("hashchange", openFromHash);
    document.addEventListener("keydown", (ev) => { // "/" focuses the filter unless the user is typing
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName || "") || ev.target.isContentEditable;
      if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) { ev.preventDefault(); $("filter").focus(); }
    });
    try {
      const res = await fetch("/openapi.json", { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (!res.ok) throw new Error("GET /openapi.json answered " + res.status + " " + res.statusText + ".");
      const text = await res.text();
      spec = attempt(() => JSON.parse(text), undefined);
      if (!isObj(spec)) throw new Error("/openapi.json is not valid JSON or not an object, so not an OpenAPI document.");
      $("loading").remove();
      render();
    } catch (err) {
      if ($("loading")) $("loading").remove();
      const box = add(el("div", "notice notice-error"), el("strong", null, "Could not load the API description."), document.createTextNode(errText(err)));
      add($("content"), box).lastChild.setAttribute("role", "alert");
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
`;
