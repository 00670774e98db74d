// The bench's reading of connection resets (bench/lib/load.mjs): workerd, once its thread has been
// busy without a pause for its 5 s keep-alive idle timeout, closes every connection between two
// requests at one instant, the next request unread. Those resets are left out of the errors and
// reported; every other error still counts and fails the run.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { IDLE_TIMEOUT_MS, idleSweeps, load } from "../../bench/lib/load.mjs";

const reset = (atMs: number) => ({ code: "ECONNRESET", atMs });
/** When the last response of a 10 s measurement came: served to its end. */
const END = 10_000;

describe("idleSweeps", () => {
  it("takes resets of one instant, after the idle timeout, for a sweep", () => {
    const burst = Array.from({ length: 40 }, (_, i) => reset(6_500 + i / 4));
    expect(idleSweeps(burst, END)).toEqual({ swept: 40, sweeps: [{ atMs: 6_500, count: 40 }] });
  });

  it("takes a sweep spread out by a loaded machine for one (clusters 50-90 ms apart, seen)", () => {
    const clusters = [5_617, 5_669, 5_759, 5_811, 5_880].flatMap((at) =>
      Array.from({ length: 8 }, (_, i) => reset(at + i)),
    );
    expect(idleSweeps(clusters, END)).toEqual({ swept: 40, sweeps: [{ atMs: 5_617, count: 40 }] });
  });

  it("counts each sweep of a measurement (the reconnected ones idle out again)", () => {
    const errors = [reset(5_300), reset(5_310), reset(5_320), reset(10_400), reset(10_401)];
    expect(idleSweeps(errors, 11_000)).toEqual({
      swept: 5,
      sweeps: [
        { atMs: 5_300, count: 3 },
        { atMs: 10_400, count: 2 },
      ],
    });
  });

  it("leaves in the errors resets before the idle timeout could have passed on any connection", () => {
    const early = Array.from({ length: 30 }, () => reset(IDLE_TIMEOUT_MS - 1));
    expect(idleSweeps(early, END)).toEqual({ swept: 0, sweeps: [] });
  });

  it("leaves in the errors a lone reset and resets spread out in time", () => {
    expect(idleSweeps([reset(6_000)], END).swept).toBe(0);
    expect(idleSweeps([reset(6_000), reset(6_200), reset(6_400), reset(8_000)], END).swept).toBe(0);
  });

  it("leaves in the errors timeouts and other errors, even at the same instant as a sweep", () => {
    const errors = [
      reset(7_000),
      { code: "request timed out", atMs: 7_001 },
      reset(7_002),
      { code: "ECONNREFUSED", atMs: 7_003 },
    ];
    expect(idleSweeps(errors, END)).toEqual({ swept: 2, sweeps: [{ atMs: 7_000, count: 2 }] });
  });

  it("leaves in the errors a burst that nothing was answered after (a server that died resets its connections too)", () => {
    const burst = Array.from({ length: 40 }, (_, i) => reset(6_500 + i / 4));
    expect(idleSweeps(burst, 6_400)).toEqual({ swept: 0, sweeps: [] });
    // Nor one whose responses stop within a few milliseconds: those under way when it died.
    expect(idleSweeps(burst, 6_515)).toEqual({ swept: 0, sweeps: [] });
    expect(idleSweeps(burst, 6_800).swept).toBe(40);
  });
});

describe("load", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it("counts a lone early reset as an error, and a server's sweep of every connection after 5 s as swept", async () => {
    const sockets = new Set<Socket>();
    const served = createServer((_req, res) => res.end("ok"));
    server = served;
    served.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    served.listen(0, "127.0.0.1");
    await once(served, "listening");
    const { port } = served.address() as AddressInfo;
    // One connection reset at 1 s (what plinth or anything else might cause), then every
    // connection at one instant at 5.6 s, as workerd's idle timeout does: both by RST.
    const lone = setTimeout(() => [...sockets][0]?.resetAndDestroy(), 1_000);
    const sweep = setTimeout(() => {
      for (const socket of sockets) socket.resetAndDestroy();
    }, 5_600);
    try {
      const r = await load({ url: `http://127.0.0.1:${port}/`, connections: 10, duration: 7 });
      expect(r.non2xx).toBe(0);
      expect(r.errors).toBe(1);
      expect(r.errorKinds).toEqual({ ECONNRESET: 1 });
      expect(r.sweeps).toHaveLength(1);
      expect(r.sweeps[0]?.atMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS);
      expect(r.swept).toBe(r.sweeps[0]?.count);
      expect(r.swept).toBeGreaterThanOrEqual(2);
      expect(r.total).toBeGreaterThan(0);
    } finally {
      clearTimeout(lone);
      clearTimeout(sweep);
    }
  }, 30_000);

  it("counts as errors the resets of a server that stops serving at them", async () => {
    const sockets = new Set<Socket>();
    const served = createServer((_req, res) => res.end("ok"));
    server = served;
    served.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    served.listen(0, "127.0.0.1");
    await once(served, "listening");
    const { port } = served.address() as AddressInfo;
    // At 5.6 s every connection is reset and the port closed: what a workerd that died looks like.
    const death = setTimeout(() => {
      served.close();
      for (const socket of sockets) socket.resetAndDestroy();
    }, 5_600);
    try {
      const r = await load({ url: `http://127.0.0.1:${port}/`, connections: 10, duration: 7 });
      expect(r.swept).toBe(0);
      expect(r.errorKinds.ECONNRESET).toBeGreaterThanOrEqual(2);
      expect(r.errors).toBeGreaterThan(r.errorKinds.ECONNRESET ?? 0);
    } finally {
      clearTimeout(death);
    }
  }, 30_000);
});
