import http from "node:http";
import type { AddressInfo } from "node:net";
import { OctopusEmulator } from "../emulator/server";
import { Engine, hostEnv } from "../harness/engine";
import { isLoopbackHost } from "../provider/octopus/endpoint";
import { proxyFor } from "../provider/octopus/proxy";

// One loopback rule (provider/octopus/endpoint.ts `isLoopbackHost`) for both of its uses: plain
// http is allowed only to loopback, and loopback is never reached through a proxy. Loopback is
// `localhost` and every name under it, with or without a final dot (RFC 6761), 127.0.0.0/8, also
// mapped into IPv6, and [::1]. Loopback names are resolved to this machine by the provider itself:
// `api.localhost` and `localhost.` are in no hosts file here, and DNS must not decide where they go.

const PROXY = "http://proxy.test:3128";
const LOOPBACK = [
  "http://localhost.:8080",
  "http://LOCALHOST.",
  "http://api.localhost",
  "https://a.b.localhost.:8443",
  "http://[::ffff:127.0.0.1]:8080",
  "http://[::ffff:127.1.2.3]",
  "http://[0:0:0:0:0:ffff:7f00:1]",
  "http://127.1",
  "http://localhost",
  "http://127.0.0.1",
  "http://[::1]",
];
const NOT_LOOPBACK = [
  "http://localhost.example.com",
  "http://localhost.example.com.",
  "http://notlocalhost",
  "http://localhostx.",
  "http://api.localhost.example",
  "http://[::ffff:10.0.0.1]",
  "http://[::ffff:128.0.0.1]",
  "http://[::127.0.0.1]",
  "http://0.0.0.0",
];

/** `proxyFor(url)` with every proxy variable set to PROXY. */
function proxied(url: string): boolean {
  const saved = { ...process.env };
  try {
    for (const name of Object.keys(process.env))
      if (/_proxy$/i.test(name)) delete process.env[name];
    Object.assign(process.env, { HTTP_PROXY: PROXY, HTTPS_PROXY: PROXY, ALL_PROXY: PROXY });
    return proxyFor(url) !== undefined;
  } finally {
    process.env = saved;
  }
}

describe("the rule", () => {
  test.each(LOOPBACK)("%s is loopback: never proxied", (url) => {
    expect(isLoopbackHost(new URL(url).hostname)).toBe(true);
    expect(proxied(url)).toBe(false);
  });

  test.each(NOT_LOOPBACK)("%s is not loopback: proxied", (url) => {
    expect(isLoopbackHost(new URL(url).hostname)).toBe(false);
    expect(proxied(url)).toBe(true);
  });
});

describe("through the provider host", () => {
  let emulator: OctopusEmulator;
  let port: string;
  /** A proxy on loopback that records whatever reaches it and forwards nothing. */
  let proxy: http.Server;
  const reached: string[] = [];

  beforeAll(async () => {
    emulator = await OctopusEmulator.start();
    port = new URL(emulator.url).port;
    proxy = http.createServer((req, res) => {
      reached.push(`${req.method} ${req.url}`);
      res.writeHead(502).end();
    });
    proxy.on("connect", (req: http.IncomingMessage, socket: import("node:net").Socket) => {
      reached.push(`CONNECT ${req.url}`);
      socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => proxy?.close(() => resolve()));
    await emulator?.close();
  });

  const proxyUrl = () => `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  describe("check", () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await Engine.start({ env: hostEnv({ OCTOPUS_API_KEY: emulator.admin.apiKey }) });
    });
    afterAll(() => engine?.close());

    const failures = async (address: string) => {
      const news = { purpose: "p", connection: { address }, __provider: engine.providerText };
      return (await engine.host.check(engine.urn("insecure"), {}, news)).failures;
    };

    test.each(LOOPBACK)("%s: plain http allowed", async (url) => {
      expect(await failures(url)).toEqual([]);
    });

    test.each(NOT_LOOPBACK)("%s: plain http refused", async (url) => {
      expect(await failures(url)).toEqual([
        expect.objectContaining({
          property: "connection.address",
          reason: expect.stringMatching(/plain http:\/\/ to a host that is not loopback/) as string,
        }),
      ]);
    });
  });

  test.each(["localhost.", "api.localhost", "A.B.LOCALHOST.", "[::ffff:127.0.0.1]"])(
    "http://%s:<port> with every proxy variable set: a key made and revoked, the proxy never reached",
    async (host) => {
      const address = `http://${host}:${port}`;
      const engine = await Engine.start({
        env: hostEnv({
          OCTOPUS_URL: address,
          OCTOPUS_API_KEY: emulator.admin.apiKey,
          HTTP_PROXY: proxyUrl(),
          HTTPS_PROXY: proxyUrl(),
          ALL_PROXY: proxyUrl(),
        }),
      });
      try {
        emulator.resetStats();
        const name = `loopback-${host.replace(/\W/g, "")}`;
        await engine.up(name, { purpose: name, userId: emulator.serviceAccount.id });
        expect(engine.outputs(name).serverUrl).toBe(new URL(address).origin);
        const id = engine.state.get(name)!.id;
        expect(emulator.hasKey(id)).toBe(true);
        await engine.destroy(name);
        expect(emulator.hasKey(id)).toBe(false);
        expect(emulator.stats.requests).toBeGreaterThanOrEqual(3);
        expect(reached).toEqual([]);
      } finally {
        await engine.close();
      }
    },
  );
});
