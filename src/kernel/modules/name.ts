/**
 * How a module's name, and a job's name within its module, are spelled: 1–63 characters of
 * a-z, 0-9 and '-', starting with a letter. The registry checks manifests against it, the job
 * routes take path parameters by it and the JobRunner contract names its objects
 * `<module>/<job>` from it, all from this one pattern, so a route never admits a name its
 * object's contract refuses.
 */
export const NAME_PART = "[a-z][a-z0-9-]{0,62}";
