/**
 * The shell of the interactive API reference served at `/docs`. It loads only
 * `/docs/app.css` and `/docs/app.js` from the same origin, carries no inline
 * script or style, and so runs under the page's strict Content-Security-Policy.
 * The script (see `docs-script.ts`) fills `#toc` and `#content` from
 * `/openapi.json`.
 */
export const DOCS_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>plinth API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/app.css">
<script src="/docs/app.js" defer></script>
</head>
<body>
<header class="topbar">
  <div class="brand">
    <h1>plinth API reference</h1>
    <a class="raw-link" href="/openapi.json">openapi.json</a>
  </div>
  <form id="creds" class="creds" autocomplete="off" aria-label="Credentials sent with every request">
    <label class="cred">
      <span class="cred-label">Authorization bearer token</span>
      <input id="auth-token" type="password" autocomplete="off" spellcheck="false" placeholder="token (sent as Bearer)">
    </label>
    <label class="cred cred-small">
      <span class="cred-label">X-Tenant</span>
      <input id="auth-tenant" type="text" autocomplete="off" spellcheck="false" placeholder="tenant id or slug">
    </label>
  </form>
</header>
<div class="layout">
  <nav class="sidebar" aria-label="Operations">
    <input id="filter" class="filter" type="search" placeholder="Filter by path or summary  ( / )" aria-label="Filter operations by path or summary" autocomplete="off" spellcheck="false">
    <div class="toc-tools">
      <button type="button" id="expand-all" class="link-btn">Expand all</button>
      <button type="button" id="collapse-all" class="link-btn">Collapse all</button>
    </div>
    <div id="toc" class="toc"></div>
  </nav>
  <main id="content" class="content">
    <noscript><p class="notice notice-error">This API reference needs JavaScript. The raw OpenAPI document is available at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
    <p id="loading" class="notice">Loading the API description&hellip;</p>
  </main>
</div>
</body>
</html>
`;

/**
 * Styles of the API reference: system fonts only (nothing is fetched),
 * light and dark schemes, method badges as `.m-get`, `.m-post`, etc.
 */
export const DOCS_CSS: string = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1b2230;
  --muted: #5c6678;
  --border: #dde2ea;
  --soft: #eef1f5;
  --accent: #2f54d4;
  --focus: #2f54d4;
  --on-accent: #ffffff;
  --get: #1f6feb;
  --post: #1a7f37;
  --put: #b45309;
  --patch: #0e7c86;
  --delete: #c9252d;
  --other: #6b7280;
  --ok: #1a7f37;
  --redirect: #0e7c86;
  --warn: #a16207;
  --err: #c9252d;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1117;
    --panel: #161b23;
    --text: #e4e9f0;
    --muted: #98a3b3;
    --border: #2a3240;
    --soft: #1d2430;
    --accent: #7f9cff;
    --focus: #7f9cff;
    --on-accent: #0e1117;
    --ok: #3fb950;
    --redirect: #39c5cf;
    --warn: #d29922;
    --err: #f85149;
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { scroll-padding-top: 12px; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.5 var(--sans); }
a { color: var(--accent); }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
input, select, textarea, button { font: inherit; color: inherit; }
input, select, textarea {
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 6px;
  padding: 6px 9px;
  min-width: 0;
}
input:focus, select:focus, textarea:focus, button:focus-visible, summary:focus-visible {
  outline: 2px solid var(--focus);
  outline-offset: 1px;
}
.topbar {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 12px 24px;
  padding: 12px 24px;
  background: var(--panel);
  border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: baseline; gap: 14px; }
.brand h1 { margin: 0; font-size: 18px; font-weight: 650; letter-spacing: -0.01em; }
.raw-link { font-size: 12px; color: var(--muted); }
.creds { display: flex; flex-wrap: wrap; gap: 10px 16px; }
.cred { display: flex; flex-direction: column; gap: 2px; }
.cred-label { font-size: 11px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.cred input { width: 300px; font-family: var(--mono); font-size: 12.5px; }
.cred-small input { width: 190px; }
.layout { display: grid; grid-template-columns: 290px minmax(0, 1fr); }
.sidebar {
  position: sticky;
  top: 0;
  align-self: start;
  height: 100vh;
  overflow-y: auto;
  padding: 16px 14px 32px;
  border-right: 1px solid var(--border);
}
.filter { width: 100%; }
.toc-tools { display: flex; gap: 12px; margin: 8px 2px 4px; }
.link-btn { background: none; border: 0; padding: 0; color: var(--accent); font-size: 12px; cursor: pointer; }
.link-btn:hover { text-decoration: underline; }
.toc-group { margin-top: 14px; }
.toc-title { margin: 0 4px 4px; font-size: 11px; font-weight: 700; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.toc-list { list-style: none; margin: 0; padding: 0; }
.toc-link {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 4px 6px;
  border-radius: 5px;
  color: var(--text);
  text-decoration: none;
}
.toc-link:hover { background: var(--soft); }
.toc-path { font-family: var(--mono); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.toc-link .badge { min-width: 46px; font-size: 9.5px; padding: 1px 4px; }
.content { padding: 24px 32px 64px; max-width: 1100px; width: 100%; }
.notice { padding: 12px 14px; border: 1px solid var(--border); border-radius: 8px; background: var(--panel); color: var(--muted); }
.notice-error { color: var(--err); border-color: var(--err); }
.notice-error strong { display: block; margin-bottom: 4px; }
.intro { margin-bottom: 28px; }
.intro-title { display: flex; align-items: center; flex-wrap: wrap; gap: 10px; margin: 0 0 4px; font-size: 26px; font-weight: 700; letter-spacing: -0.02em; }
.version { padding: 1px 8px; border-radius: 999px; background: var(--soft); border: 1px solid var(--border); font: 600 12px var(--mono); color: var(--muted); }
.intro-meta { margin: 0; color: var(--muted); font-size: 12px; }
.intro-desc, .op-desc, .group-desc, .sch-desc, .resp-desc { white-space: pre-line; }
.intro-desc { margin: 12px 0 0; max-width: 75ch; }
.group { margin-bottom: 32px; }
.group-title { margin: 0 0 4px; padding-bottom: 6px; font-size: 18px; border-bottom: 1px solid var(--border); }
.group-desc { margin: 6px 0 10px; color: var(--muted); }
.op { margin: 10px 0; background: var(--panel); border: 1px solid var(--border); border-left: 4px solid var(--other); border-radius: 8px; }
.op.m-get { border-left-color: var(--get); }
.op.m-post { border-left-color: var(--post); }
.op.m-put { border-left-color: var(--put); }
.op.m-patch { border-left-color: var(--patch); }
.op.m-delete { border-left-color: var(--delete); }
.op.deprecated .op-path { text-decoration: line-through; }
.op-sum { display: flex; align-items: center; gap: 12px; padding: 10px 14px; cursor: pointer; list-style: none; }
.op-sum::-webkit-details-marker { display: none; }
.op-sum::after { content: ""; margin-left: auto; flex: none; width: 7px; height: 7px; border-right: 2px solid var(--muted); border-bottom: 2px solid var(--muted); transform: rotate(-45deg); transition: transform 0.15s; }
.op[open] > .op-sum::after { transform: rotate(45deg); }
.op[open] > .op-sum { border-bottom: 1px solid var(--border); }
.op-path { font-size: 13.5px; font-weight: 600; min-width: 0; overflow-wrap: anywhere; }
.op-summary { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.badge {
  display: inline-block;
  flex: none;
  min-width: 64px;
  padding: 3px 6px;
  border-radius: 4px;
  background: var(--other);
  color: #fff;
  font: 700 11px var(--mono);
  text-align: center;
  text-transform: uppercase;
  letter-spacing: 0.03em;
}
.badge.m-get { background: var(--get); }
.badge.m-post { background: var(--post); }
.badge.m-put { background: var(--put); }
.badge.m-patch { background: var(--patch); }
.badge.m-delete { background: var(--delete); }
.tag { flex: none; padding: 1px 7px; border-radius: 999px; border: 1px solid var(--border); font-size: 11px; font-weight: 600; color: var(--muted); }
.tag-auth { color: var(--warn); border-color: var(--warn); }
.tag-dep { color: var(--err); border-color: var(--err); }
.op-body { padding: 4px 16px 16px; }
.op-desc { margin: 12px 0; }
.op-meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 12px 0; font-size: 13px; }
.op-meta dt { color: var(--muted); }
.op-meta dd { margin: 0; }
.op-section { margin-top: 18px; }
.op-h { margin: 0 0 8px; font-size: 12px; font-weight: 700; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.muted { color: var(--muted); margin: 0; }
.req { color: var(--err); font-size: 11px; font-weight: 600; }
.table-wrap { overflow-x: auto; }
.params { width: 100%; border-collapse: collapse; font-size: 13px; }
.params th { text-align: left; font-size: 11px; font-weight: 600; color: var(--muted); padding: 6px 10px; border-bottom: 1px solid var(--border); }
.params td { vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--soft); }
.params td:first-child { white-space: nowrap; }
.params .req { display: block; }
.media { margin: 8px 0 4px; }
.media-type { display: inline-block; margin-bottom: 6px; padding: 1px 7px; background: var(--soft); border-radius: 4px; }
.schema { padding: 10px 12px; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); overflow-x: auto; }
.sch-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 8px; }
.sch-name { font-weight: 600; }
.sch-type { font-family: var(--mono); font-size: 12px; color: var(--accent); }
.sch-ref { font-family: var(--mono); font-size: 11px; color: var(--muted); }
.chip { padding: 0 6px; border-radius: 4px; background: var(--soft); border: 1px solid var(--border); font-family: var(--mono); font-size: 11px; color: var(--muted); word-break: break-all; }
.sch-desc { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
.sch-kids { margin: 6px 0 2px 4px; padding-left: 14px; border-left: 2px solid var(--border); }
.sch-kids > .sch { padding: 4px 0; }
.resp { margin: 0 0 12px; }
.resp-head { display: flex; align-items: baseline; gap: 10px; }
.status { font: 700 13px var(--mono); }
.s1, .s3 { color: var(--redirect); }
.s2 { color: var(--ok); }
.s4 { color: var(--warn); }
.s5, .sx { color: var(--err); }
.try { margin-top: 20px; padding: 14px; border: 1px dashed var(--border); border-radius: 8px; background: var(--bg); }
.try-grid { display: grid; grid-template-columns: minmax(140px, max-content) minmax(0, 1fr); gap: 8px 14px; align-items: center; margin-bottom: 10px; }
.try-label { display: flex; flex-direction: column; }
.try-in { font-size: 11px; color: var(--muted); }
.try-input { width: 100%; font-family: var(--mono); font-size: 12.5px; }
.try-body-label { display: block; margin: 4px 0; font-size: 12px; font-weight: 600; color: var(--muted); }
.try-body { width: 100%; resize: vertical; font-family: var(--mono); font-size: 12.5px; line-height: 1.45; tab-size: 2; }
.try-actions { display: flex; align-items: center; gap: 10px; margin-top: 10px; }
.btn { padding: 6px 14px; border-radius: 6px; border: 1px solid var(--border); background: var(--panel); cursor: pointer; font-weight: 600; }
.btn:hover { background: var(--soft); }
.btn-primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
.btn-primary:hover { background: var(--accent); filter: brightness(1.1); }
.btn:disabled { opacity: 0.6; cursor: progress; }
.hint { font-size: 12px; color: var(--muted); }
.try-out { margin-top: 14px; }
.res-line { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 14px; margin-bottom: 8px; }
.res-req { color: var(--muted); word-break: break-all; }
.res-label { margin: 10px 0 4px; font-size: 11px; font-weight: 700; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.pre { margin: 0; padding: 10px 12px; max-height: 420px; overflow: auto; border: 1px solid var(--border); border-radius: 6px; background: var(--panel); white-space: pre-wrap; word-break: break-word; }
.res-error { color: var(--err); }
@media (max-width: 900px) {
  .layout { display: block; }
  .sidebar { position: static; height: auto; border-right: 0; border-bottom: 1px solid var(--border); }
  .content { padding: 18px 14px 48px; }
  .cred input, .cred-small input { width: 100%; }
  .creds, .cred { width: 100%; }
  .try-grid { grid-template-columns: 1fr; }
  .op-sum { flex-wrap: wrap; gap: 6px 10px; }
  .op-summary { order: 1; flex-basis: 100%; white-space: normal; }
}
`;
