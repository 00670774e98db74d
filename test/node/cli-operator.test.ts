// What a platform operator meets before any request reaches a plinth: keys and URLs
// the CLI refuses (without echoing a key), the hint when nothing listens at a local
// URL, files it cannot write, and --help for every command, local ones included.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jsonLines, plinth, STAND_IN_HEADERS } from "./plinth-cli";

const scratch = mkdtempSync(path.join(tmpdir(), "plinth-cli-operator-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A loopback URL nothing listens at (a port just freed). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${address.port}`;
}

describe("keys the CLI refuses before sending them", () => {
  it("a key with a line break or a space is a usage error naming its source, never echoing it", async () => {
    const url = await deadUrl();
    const cases: [string[], Record<string, string>, string][] = [
      [["keys", "list", "--url", url], { PLINTH_KEY: "plk_dev_SECRETPART\nsecondline" }, "PLINTH_KEY"],
      [
        ["tenants", "list", "--url", url],
        { PLATFORM_ROOT_KEY: "rootSECRETPART rootSECRETPART0123456789" },
        "PLATFORM_ROOT_KEY",
      ],
    ];
    for (const [args, env, source] of cases) {
      const run = await plinth(args, env);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain(source);
      expect(run.stderr + run.stdout).not.toContain("SECRETPART");
    }
    const keyFile = path.join(scratch, "key");
    writeFileSync(keyFile, "plk_dev_SECRETPART\r\nplk_dev_other\n");
    const fromFile = await plinth(["keys", "list", "--url", url, "--key-file", keyFile]);
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toContain(`--key-file ${keyFile}`);
    expect(fromFile.stderr).not.toContain("SECRETPART");
  });
});

describe("--url and PLINTH_URL", () => {
  it("a URL without an http(s) scheme is a usage error, not a crash", async () => {
    const flag = await plinth(["tenants", "list", "--url", "localhost:8787"], { PLATFORM_ROOT_KEY: "k".repeat(40) });
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain("--url localhost:8787 is not an http(s) URL");
    expect(flag.stderr).not.toContain("TypeError");
    const env = await plinth(["jobs", "list"], { PLINTH_URL: "127.0.0.1:8787", PLATFORM_ROOT_KEY: "k".repeat(40) });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain("PLINTH_URL 127.0.0.1:8787 is not an http(s) URL");
  });

  it("nothing listening at a local URL: exit 3, and how to point the CLI at another port", async () => {
    const url = await deadUrl();
    const run = await plinth(["tenants", "list", "--url", url], { PLATFORM_ROOT_KEY: "k".repeat(40) });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`cannot reach ${url}: ECONNREFUSED`);
    expect(run.stderr).toContain("pass --url or set PLINTH_URL");
  });

  it("something that is not a plinth at the URL: exit 3, saying it answered, not that it could not be reached", async () => {
    // In the drill, --url pointed at a webhook receiver answering "ok": the CLI said "cannot
    // reach …: Unexpected token 'o'", sending its user after a network fault that was a wrong port.
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const url = `http://127.0.0.1:${address.port}`;
    try {
      const run = await plinth(["tenants", "list", "--url", url], { PLATFORM_ROOT_KEY: "k".repeat(40) });
      expect(run.status).toBe(3);
      expect(run.stderr).not.toContain("cannot reach");
      expect(run.stderr).toContain(`${url} answered 200 with text/plain, not plinth's JSON: is a plinth there?`);
      expect(run.stderr).toContain("pass --url or set PLINTH_URL");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("a server that is no plinth but answers JSON", () => {
  it("exit 3 naming what answered, never a create's empty key, an empty record or a document that is not plinth's", async () => {
    // In the walk, --url pointed at another service's port: `keys create` exited 0, printing
    // "key  -" and "the key is shown once: store it now"; `tenants get` a record of dashes;
    // `openapi export` wrote that server's {"hello":"world"} as the OpenAPI document; and its
    // HTML 404 was "404 http_404: Not Found", exit 1, as if plinth had refused. Every plinth
    // answer carries X-Request-Id (src/kernel/http/request-id.ts); theirs did not.
    const server = createHttpServer((req, res) => {
      req.resume();
      if (req.url?.startsWith("/api/v1/platform/tenants/")) {
        res.writeHead(404, { "content-type": "text/html" });
        res.end("<html>Not Found</html>");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"hello":"world"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const url = `http://127.0.0.1:${address.port}`;
    const out = path.join(scratch, "not-plinth-openapi.json");
    const env = { PLATFORM_ROOT_KEY: "k".repeat(40), PLINTH_KEY: "plk_dev_0123456789abcdef" };
    try {
      const cases: [string[], number][] = [
        [["keys", "create", "ci", "--scope", "blog.post.read", "--url", url], 200],
        [["tenants", "create", "acme", "--url", url], 200],
        [["keys", "list", "--url", url], 200],
        [["openapi", "export", "--out", out, "--url", url], 200],
        [["tenants", "get", "01M96QRHBZKB8A0WXKWNAAYTNA", "--url", url], 404],
      ];
      for (const [args, status] of cases) {
        const run = await plinth(args, env);
        const what = args.slice(0, 2).join(" ");
        expect(run.status, `${what}: ${run.stderr}`).toBe(3);
        expect(run.stdout, what).toBe("");
        expect(run.stderr, what).toContain(`${url} answered ${status} with`);
        expect(run.stderr, what).toContain("is a plinth there?");
        expect(run.stderr, what).not.toContain("internal error");
      }
      expect(existsSync(out)).toBe(false);
      const json = await plinth(["tenants", "get", "x", "--json", "--url", url], env);
      expect(json.status).toBe(3);
      expect(jsonLines(json.stderr)).toEqual([expect.objectContaining({ error: "network", exit_code: 3 })]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("--json on stderr", () => {
  it("a failure that is not the API's refusal is a JSON line too, with its exit code's name", async () => {
    const url = await deadUrl();
    const unreachable = await plinth(["tenants", "list", "--json", "--url", url], {
      PLATFORM_ROOT_KEY: "k".repeat(40),
    });
    expect(unreachable.status).toBe(3);
    const [network, ...more] = jsonLines(unreachable.stderr);
    expect(more).toEqual([]);
    expect(network).toMatchObject({ error: "network", exit_code: 3 });
    expect(network?.detail).toContain(`cannot reach ${url}: ECONNREFUSED`);

    const noKey = await plinth(["keys", "list", "--json", "--url", url]);
    expect(noKey.status).toBe(2);
    expect(jsonLines(noKey.stderr)).toEqual([
      { error: "usage", exit_code: 2, detail: "set PLINTH_KEY (an API key of the tenant) or pass --key-file <path>" },
    ]);
  });

  it("a usage error of a remote command under --json is JSON, its usage line included", async () => {
    for (const args of [
      ["keys", "list", "--bogus", "--json"],
      ["keys", "revoke", "--json"],
    ]) {
      const run = await plinth(args);
      expect(run.status, args.join(" ")).toBe(2);
      const lines = jsonLines(run.stderr);
      expect(lines[0], args.join(" ")).toMatchObject({ error: "usage", exit_code: 2 });
      expect(String(lines[0]?.usage)).toMatch(/^plinth keys (list|revoke)/);
    }
    const unknown = await plinth(["keys", "rotate", "--json"]);
    expect(unknown.status).toBe(2);
    const [line, ...more] = jsonLines(unknown.stderr);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ error: "usage", detail: "unknown command keys rotate" });
    expect(line?.commands).toContain("plinth keys revoke <id>");
  });

  it("an unknown command under --json is one JSON line naming it, with every command", async () => {
    const run = await plinth(["nosuch", "--json"]);
    expect(run.status).toBe(2);
    const [line, ...more] = jsonLines(run.stderr);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ error: "usage", exit_code: 2, detail: "unknown command nosuch" });
    expect(line?.commands).toContain("plinth keys revoke <id>");
    expect(line?.commands).toContain(
      "plinth audit verify <file.ndjson> [--jwks <url-or-file>] [--tenant <id>] [--max-age <duration>] [--timeout <duration>]",
    );
  });

  it("a bug of the CLI (here: an answer it did not expect) is one JSON line, not a stack trace", async () => {
    // A plinth answering `null` where the CLI reads an object: `crypto versions` reads `body.next`.
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json", ...STAND_IN_HEADERS });
      res.end("null");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const url = `http://127.0.0.1:${address.port}`;
    const env = { PLATFORM_ROOT_KEY: "k".repeat(40) };
    try {
      const json = await plinth(["crypto", "versions", "--json", "--url", url], env);
      expect(json.status).toBe(5);
      const [line, ...more] = jsonLines(json.stderr);
      expect(more).toEqual([]);
      expect(line).toMatchObject({ error: "internal", exit_code: 5 });
      expect(String(line?.detail)).toContain("null");
      expect(line?.stack).toBeUndefined();
      // PLINTH_DEBUG=1 adds the stack to the line, for the bug report.
      const debug = await plinth(["crypto", "versions", "--json", "--url", url], { ...env, PLINTH_DEBUG: "1" });
      expect(debug.status).toBe(5);
      expect(String(jsonLines(debug.stderr)[0]?.stack)).toContain("crypto-commands.mjs");
      // A person gets the sentence and the stack, and the same exit code.
      const text = await plinth(["crypto", "versions", "--url", url], env);
      expect(text.status).toBe(5);
      expect(text.stderr).toMatch(/^plinth: internal error \(a bug in plinth\): /);
      expect(text.stderr).toContain("crypto-commands.mjs");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("openapi export --out", () => {
  it("a file it cannot write is a usage error naming it, not a stack trace", async () => {
    const out = path.join(scratch, "no-such-dir", "openapi.json");
    const run = await plinth(["openapi", "export", "--local", "--out", out]);
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(`plinth: cannot write --out ${out}: ENOENT`);
  });

  it("with --json, says what it wrote as JSON, so a script that parses stdout gets JSON", async () => {
    // It printed "wrote <file>" under --json too: `plinth audit export --json --out f | jq` failed.
    const out = path.join(scratch, "openapi-json.json");
    const run = await plinth(["openapi", "export", "--local", "--out", out, "--json"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ wrote: out, bytes: statSync(out).size });
    const text = await plinth(["openapi", "export", "--local", "--out", out]);
    expect(text.stdout).toBe(`wrote ${out}\n`);
  });
});

describe("openapi export --local", () => {
  it("refuses --url and --timeout, which a local export never uses, as a usage error before reading anything", async () => {
    // They were accepted and ignored: `--local --url https://prod…` exported the checkout's document, exit 0.
    for (const extra of [
      ["--url", "http://127.0.0.1:1"],
      ["--timeout", "5s"],
    ]) {
      const run = await plinth(["openapi", "export", "--local", ...extra]);
      expect(run.status, extra.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(
        `plinth: --local reads src/generated/openapi.json of this checkout: ${extra[0]} has no use there`,
      );
    }
    // The help says so beside --local.
    expect((await plinth(["openapi", "export", "--help"])).stdout).toMatch(/--local .*not with --url or --timeout/);
  });
});

describe("--help of the local commands", () => {
  it("describes audit verify, new module and modules list|validate, on stdout, exit 0", async () => {
    for (const command of ["audit verify", "new module", "modules list", "modules validate"]) {
      const run = await plinth([...command.split(" "), "--help"]);
      expect(run.status, command).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^usage: plinth ${command}`));
      expect(run.stdout).toContain("Exit: 0");
    }
    // It names every line modules list prints, the variables the config check requires among them.
    expect((await plinth(["modules", "list", "--help"])).stdout).toContain("bindings, variables, errors");
    const group = await plinth(["audit", "--help"]);
    expect(group.status).toBe(0);
    expect(group.stdout).toContain("plinth audit verify <file.ndjson>");
  });

  it("says which read models a rebuild copies from state, and that suspended tenants are rebuilt too", async () => {
    const replay = await plinth(["events", "replay", "--help"]);
    expect(replay.stdout).toContain("audit:log, files:files.files: copied from their objects' state");
    const audit = await plinth(["audit", "rebuild", "--help"]);
    expect(audit.stdout).toContain("every tenant, suspended ones too");
    expect(audit.stdout).not.toContain("active");
  });

  it("a usage error of a local command prints its usage, not every command's", async () => {
    const run = await plinth(["audit", "verify", path.join(scratch, "missing.ndjson")]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("cannot read");
    expect(run.stderr).toContain("usage: plinth audit verify <file.ndjson>");
    expect(run.stderr).not.toContain("remote commands");
  });

  it("modules list and validate refuse options they do not have", async () => {
    const run = await plinth(["modules", "validate", "--bogus"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("modules validate takes no arguments or options (got --bogus)");
  });

  it("the webhook commands an operator runs with --tenant show it in their usage line and in the command lists", async () => {
    // The runbook (docs/operations.md) runs them with --tenant <id>; their usage line, the
    // group's list and plinth --help left it out, so it was found only under options.
    const either = [
      "webhooks endpoints",
      "webhooks deliveries",
      "webhooks redeliver-failed",
      "webhooks enable",
      "webhooks disable",
    ];
    const all = await plinth(["--help"]);
    const group = await plinth(["webhooks", "--help"]);
    // `[--tenant <id>]`, or with what only the platform's form takes: `[--tenant <id> [--reason <why>]]`.
    const tenant = "\\[--tenant <id>(\\]| \\[)";
    for (const command of either) {
      const help = await plinth([...command.split(" "), "--help"]);
      expect(help.stdout.split("\n")[0], command).toMatch(new RegExp(`^usage: plinth ${command} .*${tenant}`));
      expect(all.stdout, command).toMatch(new RegExp(`${command} [^\n]*${tenant}`));
      expect(group.stdout, command).toMatch(new RegExp(`${command} [^\n]*${tenant}`));
    }
  });

  it("a sub-command a group lacks lists the group's commands", async () => {
    const run = await plinth(["keys", "rotate"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown command keys rotate");
    expect(run.stderr).toContain("plinth keys revoke <id>");
    expect(run.stderr).not.toContain("remote commands");
  });
});

describe("events replay's resume line", () => {
  /** A plinth whose replay route answers each call with the next of `answers` (status, body). */
  async function stub(answers: [number, Record<string, unknown>][]) {
    let calls = 0;
    const server = createHttpServer((req, res) => {
      const [status, body] = answers[Math.min(calls++, answers.length - 1)] ?? [500, {}];
      req.resume();
      res.writeHead(status, {
        "content-type": status < 300 ? "application/json" : "application/problem+json",
        ...STAND_IN_HEADERS,
      });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return {
      url: `http://127.0.0.1:${address.port}`,
      calls: () => calls,
      close: () => new Promise((resolve) => server.close(resolve)),
    };
  }
  const refused: [number, Record<string, unknown>] = [
    400,
    { status: 400, code: "validation_failed", detail: "1 invalid field" },
  ];
  const failed: [number, Record<string, unknown>] = [500, { status: 500, code: "internal", detail: "boom" }];

  it("is not printed for an --after the first call refuses: it would repeat the cursor refused", async () => {
    const api = await stub([refused]);
    try {
      const run = await plinth(["events", "replay", "blog:blog.posts", "--after", "garbage", "--url", api.url], {
        PLATFORM_ROOT_KEY: "k".repeat(40),
      });
      expect(run.status).toBe(1);
      expect(api.calls()).toBe(1);
      expect(run.stderr).toContain("400 validation_failed");
      expect(run.stderr).not.toContain("resume with");
    } finally {
      await api.close();
    }
  });

  it("names the cursor the run reached when a later call fails", async () => {
    const page = { consumer: "blog:blog.posts", streams: 1, events: 2, applied: 2, unreadable: [] };
    const api = await stub([[200, { ...page, next: "t1/post/p1" }], failed]);
    try {
      const run = await plinth(["events", "replay", "blog:blog.posts", "--url", api.url], {
        PLATFORM_ROOT_KEY: "k".repeat(40),
      });
      expect(run.status).toBe(1);
      expect(api.calls()).toBe(2);
      expect(run.stdout).toContain("1 streams, 2 events read, 2 applied");
      expect(run.stderr).toContain('500 internal: boom\nresume with --after "t1/post/p1"');
    } finally {
      await api.close();
    }
    // With --json: the problem, as one JSON line, with the cursor to resume from.
    const again = await stub([[200, { ...page, next: "t1/post/p1" }], failed]);
    try {
      const run = await plinth(["events", "replay", "blog:blog.posts", "--json", "--url", again.url], {
        PLATFORM_ROOT_KEY: "k".repeat(40),
      });
      expect(run.status).toBe(1);
      expect(
        run.stderr
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line)),
      ).toEqual([{ status: 500, code: "internal", detail: "boom", resume_after: "t1/post/p1" }]);
    } finally {
      await again.close();
    }
  });
});

describe("a server failure on stderr", () => {
  it("names the problem's request id, the one key to the server's log line of the cause", async () => {
    // A 500 printed "500 internal: Internal server error" alone: the operator had nothing to look up.
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(500, { "content-type": "application/problem+json", ...STAND_IN_HEADERS });
      res.end(JSON.stringify({ status: 500, code: "internal", detail: "Internal server error", request_id: "rq-42" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    try {
      const run = await plinth(["jobs", "list", "--url", `http://127.0.0.1:${address.port}`], {
        PLATFORM_ROOT_KEY: "k".repeat(40),
      });
      expect(run.status).toBe(1);
      expect(run.stderr.trim()).toBe(
        "plinth: 500 internal: Internal server error\nrequest_id rq-42: its log lines say what failed",
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("a problem's fields on stderr", () => {
  it("lists each invalid field once, without repeating the detail when a field's message is the detail", async () => {
    const detail = "a rebuild of audit:log would leave out 48 event types";
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(400, { "content-type": "application/problem+json", ...STAND_IN_HEADERS });
      res.end(
        JSON.stringify({
          status: 400,
          code: "validation_failed",
          detail,
          errors: [
            { path: "body.rebuild", message: detail },
            { path: "body.limit", message: "Too big" },
          ],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    try {
      const run = await plinth(["jobs", "list", "--url", `http://127.0.0.1:${address.port}`], {
        PLATFORM_ROOT_KEY: "k".repeat(40),
      });
      expect(run.status).toBe(1);
      expect(run.stderr.trim()).toBe(`plinth: 400 validation_failed: ${detail} (body.rebuild)\n  body.limit: Too big`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
