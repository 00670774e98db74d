import type { ModuleSweep } from "../modules";

const FILES = "/api/v1/files";
const QUOTA = "/api/v1/admin/files/quota";

/** The files module's operations: an upload, its list, whole and ranged downloads, a signed URL, the quota, a delete. */
export const sweep: ModuleSweep = {
  samples: {
    // Sent only by error requests refused before the body is read (permission, tenant).
    [`POST ${FILES}`]: "sample",
    [`POST ${FILES}/{id}/url`]: { expires_in: 60 },
    [`PUT ${QUOTA}`]: { quota_bytes: null },
  },
  async valid(s, fx) {
    const auth = { authorization: `Bearer ${fx.adminKey}` };
    const admin = { intent: "valid" as const, label: "admin key", headers: auth };
    const upload = (name: string) =>
      s.need<{ id: string }>({
        ...admin,
        op: `POST ${FILES}`,
        expect: 201,
        query: { name },
        headers: { ...auth, "content-type": "text/plain" },
        raw: "hello, sweep",
      });
    const file = await upload("sweep.txt");
    fx.ids[`${FILES}/`] = file.id;
    const one = { ...admin, params: { id: file.id } };
    await s.call({ ...admin, op: `GET ${FILES}`, expect: 200 });
    await s.call({ ...one, op: `GET ${FILES}/{id}`, expect: 200 });
    await s.call({
      ...one,
      op: `GET ${FILES}/{id}`,
      expect: 206,
      label: "a range",
      headers: { ...auth, range: "bytes=0-4" },
    });
    const signed = await s.need<{ url: string }>({
      ...one,
      op: `POST ${FILES}/{id}/url`,
      expect: 200,
      json: { expires_in: 60 },
    });
    const query = Object.fromEntries(new URL(signed.url).searchParams);
    await s.call({
      intent: "valid",
      label: "signed URL, no credential",
      op: `GET ${FILES}/{id}/download`,
      expect: 200,
      params: { id: file.id },
      query,
    });
    await s.call({ ...admin, op: `GET ${QUOTA}`, expect: 200 });
    await s.call({ ...admin, op: `PUT ${QUOTA}`, expect: 200, json: { quota_bytes: null } });
    // A second file to delete: the error requests derived later still need the first one.
    const doomed = await upload("doomed.txt");
    await s.call({ ...admin, op: `DELETE ${FILES}/{id}`, expect: 204, params: { id: doomed.id } });
  },
};
