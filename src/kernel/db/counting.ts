/**
 * A D1 binding that counts its round trips (each query, each batch) with
 * `count`, for the consumer's figures. Statements it prepares go back to the
 * real binding unwrapped when batched.
 */
export function countingD1(db: D1Database, count: () => void): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const passThrough = (target: object, prop: string | symbol) => {
    const value: unknown = Reflect.get(target, prop, target);
    // Function.prototype.bind, not value.bind: with tracing on, env.DB is @microlabs/otel-cf-workers' Proxy
    // (1.0.0-rc.52), whose get trap answers `bind` itself and drops `this` ("Cannot read properties of undefined").
    return typeof value === "function" ? Function.prototype.bind.call(value, target) : value;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "first" || prop === "run" || prop === "all" || prop === "raw") {
          const method = passThrough(target, prop) as (...args: unknown[]) => unknown;
          return (...args: unknown[]) => {
            count();
            return method(...args);
          };
        }
        return passThrough(target, prop);
      },
    });
    real.set(proxy, statement);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          count();
          return target.batch(statements.map((s) => real.get(s) ?? s));
        };
      }
      if (prop === "exec") {
        return (query: string) => {
          count();
          return target.exec(query);
        };
      }
      return passThrough(target, prop);
    },
  });
}
