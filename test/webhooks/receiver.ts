/**
 * A webhook receiver in the test runtime: every request the Worker's objects send to `path` is
 * recorded and answered 200; anything else goes out as ever. `restore` puts fetch back.
 */
export function recordingReceiver(path: string) {
  const received: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).pathname !== path) return original(input, init);
    received.push(await request.text());
    return new Response("ok");
  };
  const restore = () => {
    globalThis.fetch = original;
  };
  return { received, restore };
}
