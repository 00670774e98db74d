import { AppError } from "../errors";

/**
 * The 412 of a conditional write whose If-Match named another version, or whose If-None-Match
 * named this one (or `*` of a resource that exists): `current_version` says
 * which one the writer holds (docs/http.md, "Conditional writes"), so a client knows that it
 * lost a race and to what, without reading the resource again first. Every versioned resource
 * answers its 412 so.
 *
 * @example
 * if (result.error === "version_conflict") throw staleVersion("the endpoint", result.current_version);
 */
export const staleVersion = (what: string, current: number): AppError =>
  new AppError("version_conflict", {
    detail: `${what}: at version ${current}, which the request's If-Match or If-None-Match does not accept; read it again`,
    extensions: { current_version: current },
  });
