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

describe("idleSweeps", () => {
  it("takes resets of one instant, after the idle timeout, for a sweep", () => {
    const burst = Array.from({ length: 40 }, (_, i) => reset(6_500 + i / 4));
    expect(idleSweeps(burst)).toEqual({ swept: 40, sweeps: [{ atMs: 6_500, count: 40 }] });
  });

  it("counts each sweep of a measurement (the reconnected ones idle out again)", () => {
    const errors = [reset(5_300), reset(5_310), reset(5_320), reset(10_400), reset(10_401)];
    expect(idleSweeps(errors)).toEqual({
      swept: 5,
      sweeps: [
        { atMs: 5_300, count: 3 },
        { atMs: 10_400, count: 2 },
      ],
    });
  });

  it("leaves in the errors resets before the idle timeout could have passed on any connection", () => {
    const early = Array.from({ length: 30 }, () => reset(IDLE_TIMEOUT_MS - 1));
    expect(idleSweeps(early)).toEqual({ swept: 0, sweeps: [] });
  });

  it("leaves in the errors a lone reset and resets spread out in time", () => {
    expect(idleSweeps([reset(6_000)]).swept).toBe(0);
    expect(idleSweeps([reset(6_000), reset(6_200), reset(6_400), reset(8_000)]).swept).toBe(0);
  });

  it("leaves in the errors timeouts and other errors, even at the same instant as a sweep", () => {
    const errors = [
      reset(7_000),
      { code: "request timed out", atMs: 7_001 },
      reset(7_002),
      { code: "ECONNREFUSED", atMs: 7_003 },
    ];
    expect(idleSweeps(errors)).toEqual({ swept: 2, sweeps: [{ atMs: 7_000, count: 2 }] });
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
});
