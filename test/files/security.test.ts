import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers";
import { call, newKey, newTenant, newUser, ORIGIN, rootKey } from "../identity/helpers";
import { bytesOf, type FileJson, fetchBytes, upload, uploaded } from "./helpers";

describe("files (security)", () => {
  it("another tenant's file id or object key answers 404, on every route", async () => {
    const a = await newTenant("fa");
    const b = await newTenant("fb");
    const file = await uploaded(a.adminKey, bytesOf(128));
    for (const id of [file.id, encodeURIComponent(`${a.id}/${file.id}`)]) {
      await expectProblem((await fetchBytes(`/api/v1/files/${id}`, b.adminKey)).res, 404, "not_found");
      expect((await call(`/api/v1/files/${id}/url`, { token: b.adminKey, body: {} })).status).toBe(404);
      expect((await call(`/api/v1/files/${id}`, { method: "DELETE", token: b.adminKey })).status).toBe(404);
    }
    const listed = (await call("/api/v1/files", { token: b.adminKey })).body.items as FileJson[];
    expect(listed).toEqual([]);
    // Still there for its own tenant.
    expect((await fetchBytes(`/api/v1/files/${file.id}`, a.adminKey)).res.status).toBe(200);
  });

  it("a signed URL serves its own tenant's file only: another tenant in it, or beside it, is refused", async () => {
    const a = await newTenant("sa");
    const b = await newTenant("sb");
    const file = await uploaded(a.adminKey, bytesOf(128));
    const url = new URL(
      (await call(`/api/v1/files/${file.id}/url`, { token: a.adminKey, body: {} })).body.url as string,
    );
    // Re-pointed at tenant B: the signature covers the tenant.
    url.searchParams.set("tenant", b.id);
    await expectProblem((await fetchBytes(`${ORIGIN}${url.pathname}${url.search}`)).res, 403, "url_signature_invalid");
    // B's own signature for that id: B cannot sign a file it does not have.
    expect((await call(`/api/v1/files/${file.id}/url`, { token: b.adminKey, body: {} })).status).toBe(404);
    // A's URL presented on B's tenant (X-Tenant): the sources disagree.
    url.searchParams.set("tenant", a.id);
    const mismatch = await fetchBytes(`${ORIGIN}${url.pathname}${url.search}`, undefined, { "x-tenant": b.slug });
    await expectProblem(mismatch.res, 403, "tenant_mismatch");
    // B's signed URL for B's own file, carrying A's tenant: refused too.
    const own = await uploaded(b.adminKey, bytesOf(16));
    const bUrl = new URL(
      (await call(`/api/v1/files/${own.id}/url`, { token: b.adminKey, body: {} })).body.url as string,
    );
    bUrl.searchParams.set("tenant", a.id);
    await expectProblem(
      (await fetchBytes(`${ORIGIN}${bUrl.pathname}${bUrl.search}`)).res,
      403,
      "url_signature_invalid",
    );
  });

  it("a suspended tenant's signed URL is refused with 403 tenant_suspended, and serves again once it is resumed", async () => {
    const t = await newTenant("fs");
    const file = await uploaded(t.adminKey, bytesOf(32));
    const url = new URL(
      (await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} })).body.url as string,
    );
    const signed = `${ORIGIN}${url.pathname}${url.search}`;
    const platform = (action: string) =>
      call(`/api/v1/platform/tenants/${t.id}/${action}`, { method: "POST", token: rootKey() });
    expect((await platform("suspend")).status).toBe(200);
    await expectProblem((await fetchBytes(signed)).res, 403, "tenant_suspended");
    expect((await platform("resume")).status).toBe(200);
    expect((await fetchBytes(signed)).res.status).toBe(200);
  });

  it("a signed URL on the main host answers its tenant's allowed origins with CORS, once its signature verified", async () => {
    const t = await newTenant("fc");
    const settings = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { cors_origins: ["https://app.example.com"] },
    });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    const file = await uploaded(t.adminKey, bytesOf(64));
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    const url = signed.body.url as string;
    // Minted on the main host: the tenant is named by the URL (?tenant=), not by a subdomain.
    expect(new URL(url).host).toBe(new URL(ORIGIN).host);
    const allowed = await fetchBytes(url, undefined, { origin: "https://app.example.com" });
    expect(allowed.res.status).toBe(200);
    expect(allowed.res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const other = await fetchBytes(url, undefined, { origin: "https://elsewhere.example.com" });
    expect(other.res.status).toBe(200);
    expect(other.res.headers.get("access-control-allow-origin")).toBeNull();
    // A forged signature names the tenant but proves nothing: no CORS for it.
    const forged = await fetchBytes(url.replace(/sig=[^&]+/, "sig=AAAAAAAA"), undefined, {
      origin: "https://app.example.com",
    });
    expect(forged.res.status).not.toBe(200);
    expect(forged.res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("needs files.file.* permissions: a member has none by default; scoped keys get what they hold", async () => {
    const t = await newTenant();
    const file = await uploaded(t.adminKey, bytesOf(32));
    const member = await newUser(t.slug);
    expect((await upload(member.access_token, bytesOf(8))).status).toBe(403);
    expect((await call("/api/v1/files", { token: member.access_token })).status).toBe(403);
    expect((await fetchBytes(`/api/v1/files/${file.id}`, member.access_token)).res.status).toBe(403);
    expect((await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: member.access_token })).status).toBe(403);

    const reader = await newKey(t.adminKey, ["files.file.read"]);
    expect((await fetchBytes(`/api/v1/files/${file.id}`, reader.key)).res.status).toBe(200);
    expect((await call(`/api/v1/files/${file.id}/url`, { token: reader.key, body: {} })).status).toBe(200);
    const refused = await upload(reader.key, bytesOf(8));
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe("missing permission files.file.write");
    expect((await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: reader.key })).status).toBe(403);
    expect((await call("/api/v1/admin/files/quota", { token: reader.key })).status).toBe(403);

    const writer = await newKey(t.adminKey, ["files.file.write"]);
    expect((await upload(writer.key, bytesOf(8))).status).toBe(201);
    expect((await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: writer.key })).status).toBe(403);
    const deleter = await newKey(t.adminKey, ["files.file.delete"]);
    expect((await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: deleter.key })).status).toBe(204);
  });

  it("a downloaded file cannot run as a page: attachment, nosniff, a sandboxing CSP, a safe name", async () => {
    const t = await newTenant();
    const file = await uploaded(t.adminKey, bytesOf(16), 'evil\u202Egnp.exe"; x=<script>', "text/plain");
    // Its "extension" (`exe_; x=_script_`) is none text/plain is saved under: .txt is added.
    expect(file.name).toBe("evilgnp.exe_; x=_script_.txt");
    const { res } = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="evilgnp.exe_; x=_script_.txt"; filename*=UTF-8''evilgnp.exe_%3B%20x%3D_script_.txt`,
    );
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox; frame-ancestors 'none'");
  });

  it("a file is saved under an extension of its type: a page, an image or a program named otherwise gets the type's", async () => {
    // A browser saves a download under the name offered, whatever its Content-Type, and the desktop
    // opens the saved file by its extension: invoice.html uploaded as text/plain would run as a page.
    const t = await newTenant();
    const html = new TextEncoder().encode("<script>alert(document.domain)</script>");
    const cases: [name: string, type: string, saved: string][] = [
      ["invoice.html", "text/plain", "invoice.html.txt"],
      ["pic.svg", "image/png", "pic.svg.png"],
      ["invoice.pdf.exe", "application/pdf", "invoice.pdf.exe.pdf"],
      ["setup.HTA", "application/json; charset=utf-8", "setup.HTA.json"],
      ["run.js", "text/plain; charset=utf-8", "run.js.txt"],
      // An extension the type lists, in any case, is kept; a name without one gets the type's.
      ["Photo.JPEG", "image/jpeg", "Photo.JPEG"],
      ["report.txt", "text/plain", "report.txt"],
      ["README", "text/markdown", "README.md"],
    ];
    for (const [name, type, saved] of cases) {
      const file = await uploaded(t.adminKey, html, name, type);
      const { res } = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
      const disposition = res.headers.get("content-disposition") ?? "";
      expect({ name, stored: file.name, disposition }).toEqual({
        name,
        stored: saved,
        disposition: `attachment; filename="${saved}"; filename*=UTF-8''${encodeURIComponent(saved)}`,
      });
    }
    // The longest name stays within 255 characters, the type's extension last.
    const long = await uploaded(t.adminKey, html, `${"a".repeat(250)}.html`, "text/plain");
    expect(long.name).toBe(`${"a".repeat(250)}.txt`);
    // A file stored before names were checked (the object's own name) is offered under its type's extension too.
    const id = "01JZZZZZZZZZZZZZZZZZZZZZZY";
    await env.FILES.put(`${t.id}/${id}`, html, {
      httpMetadata: { contentType: "text/plain" },
      customMetadata: { name: "old.html" },
    });
    const { res } = await fetchBytes(`/api/v1/files/${id}`, t.adminKey);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="old.html.txt"; filename*=UTF-8''old.html.txt`,
    );
  });
});

describe("files (security): a signed URL has one spelling", () => {
  it("verifies only as signed: another spelling of the same exp or kv is 400, the URL itself still serves", async () => {
    const t = await newTenant("fc");
    const file = await uploaded(t.adminKey, bytesOf(16));
    const url = new URL(
      (await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} })).body.url as string,
    );
    const exp = String(url.searchParams.get("exp"));
    const kv = String(url.searchParams.get("kv"));
    const spelled = (name: string, value: string) => {
      const u = new URL(url);
      u.searchParams.set(name, value);
      return `${ORIGIN}${u.pathname}${u.search}`;
    };
    // Each reads as the same number, so each verified under the one signature: one URL, many.
    const others: [string, string][] = [
      ["exp", `0${exp}`],
      ["exp", `${exp}e0`],
      ["exp", `${exp}.0`],
      ["exp", `+${exp}`],
      ["exp", ` ${exp}`],
      ["exp", `0x${Number(exp).toString(16)}`],
      ["kv", `0${kv}`],
      ["kv", `${kv}.0`],
      ["kv", `${kv}e0`],
    ];
    for (const [name, value] of others) {
      const problem = await expectProblem((await fetchBytes(spelled(name, value))).res, 400, "validation_failed");
      expect(JSON.stringify(problem), `${name}=${value}`).toContain(name);
    }
    // The same value twice is not a spelling either.
    const twice = `${ORIGIN}${url.pathname}${url.search}&exp=${exp}`;
    await expectProblem((await fetchBytes(twice)).res, 400, "validation_failed");
    expect((await fetchBytes(`${ORIGIN}${url.pathname}${url.search}`)).res.status).toBe(200);
  });

  it("verifies only as the URL was written: percent-escapes, another order or an added parameter are 400", async () => {
    const t = await newTenant("fd");
    const file = await uploaded(t.adminKey, bytesOf(16));
    const url = new URL(
      (await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} })).body.url as string,
    );
    const exp = String(url.searchParams.get("exp"));
    const sig = String(url.searchParams.get("sig"));
    const escaped = (text: string) => `%${text.charCodeAt(0).toString(16).toUpperCase()}${text.slice(1)}`;
    const params = [...url.searchParams.entries()];
    // Each reads as the same values once decoded, so each verified under the one signature: one URL, many.
    const others: string[] = [
      `${url.pathname}${url.search.replace(`exp=${exp}`, `exp=${escaped(exp)}`)}`,
      `${url.pathname}${url.search.replace(`sig=${sig}`, `sig=${escaped(sig)}`)}`,
      `${url.pathname}${url.search.replace("tenant=", `${escaped("t")}enant=`)}`,
      `${url.pathname}?${new URLSearchParams(params.reverse()).toString()}`,
      `${url.pathname}${url.search}&download=1`,
      `${url.pathname.replace(file.id, escaped(file.id))}${url.search}`,
    ];
    for (const other of others) {
      const res = (await fetchBytes(`${ORIGIN}${other}`)).res;
      expect(res.status, other).toBe(400);
      await expectProblem(res, 400, "validation_failed");
    }
    expect((await fetchBytes(`${ORIGIN}${url.pathname}${url.search}`)).res.status).toBe(200);
  });
});
