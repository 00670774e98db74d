import { AppError } from "../errors";

/**
 * The 412 of a conditional write whose If-Match named another version: `current_version` says
 * which one the writer holds (docs/http.md, "Conditional writes"), so a client knows that it
 * lost a race and to what, without reading the resource again first. Every versioned resource
 * answers its 412 so.
 *
 * @example
 * if (result.error === "version_conflict") throw staleVersion("the endpoint", result.current_version);
 */
export const staleVersion = (what: string, current: number): AppError =>
  new AppError("version_conflict", {
    detail: `${what} changed since the version named: it is at version ${current}; read it again`,
    extensions: { current_version: current },
  });
