import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator } from "../emulator/server";
import { DEFAULT_RETRY, OctopusClient } from "../provider/octopus/client";
import { endpointFrom } from "../provider/core/connection/settings";
import { OctopusError } from "../provider/octopus/errors";
import { proxyFor } from "../provider/octopus/proxy";
import { Engine } from "../harness/engine";
import { forwardTo } from "./support/forward";
import { HostCallError } from "../harness/host";

// The transport under the Octopus client, through the client itself and through the real provider
// host: a private certificate authority, forward proxies (HTTP_PROXY, HTTPS_PROXY, NO_PROXY),
// plain http refused for hosts that are not loopback, keep-alive, and redirects that are not
// followed. Every server here listens on 127.0.0.1; a "remote" host name only ever reaches a
// proxy on loopback, which maps it to the emulator.

/** Variables that change where or how the host connects; the tests set them explicitly. */
const TRANSPORT_VARIABLES = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "GRPC_PROXY",
  "NODE_EXTRA_CA_CERTS",
  "NODE_TLS_REJECT_UNAUTHORIZED",
];
const isTransportVariable = (name: string) =>
  name.startsWith("OCTOPUS_") || TRANSPORT_VARIABLES.includes(name.toUpperCase());

/** The host's environment: this process's, without Octopus or transport settings, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (isTransportVariable(name)) delete env[name];
  return { ...env, ...extra };
}

// ---- certificates ------------------------------------------------------------------------------

interface Certificates {
  dir: string;
  caFile: string;
  caPem: string;
  /** A server certificate for 127.0.0.1 and localhost, issued by the CA. */
  server: { cert: string; key: string };
  /** A certificate from the same CA for another name only. */
  otherName: { cert: string; key: string };
}

/** A throwaway CA and two server certificates, valid for two days, made with the openssl CLI. */
function makeCertificates(): Certificates {
  try {
    execFileSync("openssl", ["version"], { stdio: "pipe" });
  } catch {
    throw new Error("the TLS tests need the openssl command-line tool on PATH");
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-tls-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=pulumi-octopus-apikey test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  const leaf = (name: string, altNames: string) => {
    fs.writeFileSync(
      path.join(dir, `${name}.ext`),
      `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
    return {
      cert: fs.readFileSync(path.join(dir, `${name}.pem`), "utf8"),
      key: fs.readFileSync(path.join(dir, `${name}.key`), "utf8"),
    };
  };
  const server = leaf("server", "IP:127.0.0.1,DNS:localhost");
  const otherName = leaf("other", "DNS:octopus.internal");
  const caFile = path.join(dir, "ca.pem");
  return { dir, caFile, caPem: fs.readFileSync(caFile, "utf8"), server, otherName };
}

// ---- servers in front of the emulator ------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

interface Front {
  url: string;
  /** TCP connections accepted. */
  connections: number;
  /** Requests received, as sent on the wire. */
  requests: Seen[];
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

/**
 * A reverse proxy on 127.0.0.1 (HTTPS when given a certificate) that passes every request to
 * `target` unless `answer` handles it; it counts connections and records requests.
 */
async function startFront(
  target: string,
  options: {
    tls?: { cert: string; key: string };
    answer?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  } = {},
): Promise<Front> {
  const { forward, close: closeUpstream } = forwardTo(target);
  const front: Front = { url: "", connections: 0, requests: [], close: async () => undefined };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    front.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (options.answer?.(req, res)) return;
    forward(req, res);
  };
  const server = options.tls
    ? https.createServer({ ...options.tls }, handler)
    : http.createServer(handler);
  server.on("connection", () => front.connections++);
  // A handshake the client rejects is not a server error.
  server.on("tlsClientError", () => undefined);
  const port = await listen(server);
  front.url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  front.close = async () => {
    closeUpstream();
    await closeServer(server);
  };
  return front;
}

interface ForwardProxy {
  url: string;
  /** Each request for an absolute URI, and each CONNECT, with its target `host:port`. */
  seen: Array<{ kind: "http" | "connect"; target: string; method: string; path: string }>;
  close(): Promise<void>;
}

/**
 * A forward proxy on 127.0.0.1: absolute-URI requests and CONNECT tunnels. (hpagent, which the
 * provider uses, tunnels plain http through CONNECT too; absolute-URI requests are served anyway.)
 * `routes` maps a requested `host:port` to where it really goes; anything else that is not
 * loopback is refused, so nothing ever leaves this machine.
 */
async function startForwardProxy(routes: Record<string, string> = {}): Promise<ForwardProxy> {
  const proxy: ForwardProxy = { url: "", seen: [], close: async () => undefined };
  const destination = (target: string): { host: string; port: number } | undefined => {
    const mapped = routes[target.toLowerCase()] ?? target;
    const { hostname, port } = new URL(`http://${mapped}`);
    return hostname === "127.0.0.1" ? { host: hostname, port: Number(port) } : undefined;
  };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "");
    const target = `${url.hostname}:${url.port || 80}`;
    proxy.seen.push({ kind: "http", target, method: req.method ?? "", path: url.pathname });
    const to = destination(target);
    if (!to) {
      res.writeHead(502).end("not a loopback destination");
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    const forwarded = http.request(
      { ...to, method: req.method, path: `${url.pathname}${url.search}`, headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? "";
    proxy.seen.push({ kind: "connect", target, method: "CONNECT", path: "" });
    const to = destination(target);
    if (!to) {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const tunnel = net.connect(to.port, to.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      tunnel.write(head);
      tunnel.pipe(client);
      client.pipe(tunnel);
    });
    for (const socket of [tunnel, client]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    tunnel.on("error", () => client.destroy());
    client.on("error", () => tunnel.destroy());
  });
  const port = await listen(server);
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await closeServer(server);
  };
  return proxy;
}

// ---- fixtures ----------------------------------------------------------------------------------

let emulator: OctopusEmulator;
let certs: Certificates;
let tlsFront: Front;
const savedEnv = { ...process.env };

/** Less than the shortest wait of the default retry policy's 5 retries (3.1 s), then some. */
const NO_RETRY_MS = 2_000;

/** Rejections as values. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

function client(address: string, extra: Record<string, unknown> = {}): OctopusClient {
  return new OctopusClient(
    endpointFrom({ address, apiKey: emulator.admin.apiKey, ...extra }),
    DEFAULT_RETRY,
  );
}

/** Creates and destroys one key through `engine`, checking the emulator at each step. */
async function roundTrip(engine: Engine, name: string, program: Record<string, unknown> = {}) {
  await engine.up(name, { purpose: name, ...program });
  const id = engine.state.get(name)?.id as string;
  expect(emulator.hasKey(id)).toBe(true);
  expect(await engine.refresh(name)).toBe("kept");
  await engine.destroy(name);
  expect(emulator.hasKey(id)).toBe(false);
  return id;
}

async function withEngine<T>(env: Record<string, string>, body: (e: Engine) => Promise<T>) {
  const engine = await Engine.start({ env: cleanEnv(env) });
  try {
    return await body(engine);
  } finally {
    await engine.close();
    // Nothing the host printed may hold a credential.
    expect(engine.host.output()).not.toContain(emulator.admin.apiKey);
  }
}

beforeAll(async () => {
  // In-process clients read the proxy variables too: this process must not have any.
  for (const name of Object.keys(process.env)) {
    if (isTransportVariable(name)) delete process.env[name];
  }
  certs = makeCertificates();
  emulator = await OctopusEmulator.start();
  tlsFront = await startFront(emulator.url, { tls: certs.server });
});
afterAll(async () => {
  process.env = savedEnv;
  await tlsFront?.close();
  await emulator?.close();
  if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
});

// ---- private certificate authority ------------------------------------------------------------

describe("a server with a private certificate authority", () => {
  test("without the CA: one attempt, a NETWORK error that names the settings to fix", async () => {
    const before = tlsFront.connections;
    emulator.resetStats();
    const started = Date.now();
    const error = await failure(client(tlsFront.url).currentUser());
    expect(error).toBeInstanceOf(OctopusError);
    expect((error as OctopusError).code).toBe("NETWORK");
    expect(error.message).toContain(`${tlsFront.url}/api/users/me`);
    expect(error.message).toMatch(/connection\.caCertificate/);
    expect(error.message).toMatch(/OCTOPUS_CA_CERTIFICATE/);
    expect(error.message).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(error.message).not.toContain(emulator.admin.apiKey);
    // A certificate problem is not transient: no retry, so no backoff either.
    expect(tlsFront.connections - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(NO_RETRY_MS);
    expect(emulator.stats.requests).toBe(0);
  });

  test("without the CA a create is sent nowhere and not reconciled", async () => {
    emulator.resetStats();
    const error = await failure(
      client(tlsFront.url).createApiKey(emulator.admin.id, { purpose: "untrusted" }),
    );
    expect((error as OctopusError).code).toBe("NETWORK");
    expect(emulator.stats.requests).toBe(0);
  });

  test("a certificate for another name is refused the same way, naming the address", async () => {
    const other = await startFront(emulator.url, { tls: certs.otherName });
    try {
      const error = await failure(client(other.url, { caCertificate: certs.caPem }).currentUser());
      expect((error as OctopusError).code).toBe("NETWORK");
      expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(error.message).toMatch(/connection\.address/);
      expect(other.connections).toBe(1);
    } finally {
      await other.close();
    }
  });

  test("https:// to a plain http server fails fast with a clear error", async () => {
    const plain = emulator.url.replace(/^http:/, "https:");
    const started = Date.now();
    const error = await failure(client(plain).currentUser());
    expect((error as OctopusError).code).toBe("NETWORK");
    expect(error.message).toContain(`${plain}/api/users/me`);
    expect(error.message).toMatch(/connection\.address/);
    expect(Date.now() - started).toBeLessThan(NO_RETRY_MS);
  });

  test("connection.caCertificate given a file name fails check, pointing at NODE_EXTRA_CA_CERTS", async () => {
    await withEngine({ OCTOPUS_API_KEY: emulator.admin.apiKey }, async (engine) => {
      const news = {
        purpose: "p",
        connection: { address: tlsFront.url, caCertificate: certs.caFile },
        __provider: engine.providerText,
      };
      const { failures } = await engine.host.check(engine.urn("ca-file"), {}, news);
      expect(failures).toEqual([
        {
          property: "connection.caCertificate",
          reason: expect.stringMatching(/PEM text.*not a file name.*NODE_EXTRA_CA_CERTS/),
        },
      ]);
    });
  });

  test("with connection.caCertificate (PEM text) it works", async () => {
    const c = client(tlsFront.url, { caCertificate: certs.caPem });
    expect((await c.currentUser()).Id).toBe(emulator.admin.id);
    const key = await c.createApiKey(emulator.serviceAccount.id, { purpose: "private CA" });
    expect(emulator.hasKey(key.Id)).toBe(true);
    expect(await c.revokeApiKey(emulator.serviceAccount.id, key.Id)).toBe(true);
    expect(emulator.hasKey(key.Id)).toBe(false);
  });

  test("through the host without the CA: the up fails at the first request, nothing is made", async () => {
    await withEngine(
      { OCTOPUS_URL: tlsFront.url, OCTOPUS_API_KEY: emulator.admin.apiKey },
      async (engine) => {
        const before = tlsFront.connections;
        emulator.resetStats();
        const error = await failure(engine.up("untrusted", { purpose: "untrusted" }));
        expect(error).toBeInstanceOf(HostCallError);
        expect(error.message).toMatch(/connection\.caCertificate/);
        expect(error.message).toMatch(/NODE_EXTRA_CA_CERTS/);
        expect(tlsFront.connections - before).toBe(1);
        expect(emulator.stats.requests).toBe(0);
        expect(engine.state.has("untrusted")).toBe(false);
      },
    );
  });

  test("through the host with connection.caCertificate in the program", async () => {
    await withEngine(
      { OCTOPUS_URL: tlsFront.url, OCTOPUS_API_KEY: emulator.admin.apiKey },
      (engine) =>
        roundTrip(engine, "ca-in-program", { connection: { caCertificate: certs.caPem } }),
    );
  });

  test("through the host with OCTOPUS_CA_CERTIFICATE", async () => {
    await withEngine(
      {
        OCTOPUS_URL: tlsFront.url,
        OCTOPUS_API_KEY: emulator.admin.apiKey,
        OCTOPUS_CA_CERTIFICATE: certs.caPem,
      },
      (engine) => roundTrip(engine, "ca-from-env"),
    );
  });

  test("through the host with NODE_EXTRA_CA_CERTS naming the CA's file", async () => {
    await withEngine(
      {
        OCTOPUS_URL: tlsFront.url,
        OCTOPUS_API_KEY: emulator.admin.apiKey,
        NODE_EXTRA_CA_CERTS: certs.caFile,
      },
      (engine) => roundTrip(engine, "node-extra-ca"),
    );
  });
});

// ---- proxies -----------------------------------------------------------------------------------

describe("HTTP_PROXY, HTTPS_PROXY and NO_PROXY in the host's environment", () => {
  let proxy: ForwardProxy;
  /** An https front with a certificate for octopus.internal, which only the proxy can reach. */
  let named: Front;
  let remote: string;
  beforeAll(async () => {
    named = await startFront(emulator.url, { tls: certs.otherName });
    remote = `https://octopus.internal:${new URL(named.url).port}`;
  });
  afterAll(() => named.close());
  beforeEach(async () => {
    proxy = await startForwardProxy({ [new URL(remote).host]: new URL(named.url).host });
  });
  afterEach(() => proxy.close());

  const remoteEnv = (extra: Record<string, string>) => ({
    OCTOPUS_URL: remote,
    OCTOPUS_API_KEY: emulator.admin.apiKey,
    OCTOPUS_CA_CERTIFICATE: certs.caPem,
    ...extra,
  });

  test.each([
    ["http", () => emulator.url],
    ["https", () => tlsFront.url],
  ])(
    "a loopback %s server is never proxied, whatever the proxy variables say",
    async (_scheme, address) => {
      const before = proxy.seen.length;
      await withEngine(
        {
          OCTOPUS_URL: address(),
          OCTOPUS_API_KEY: emulator.admin.apiKey,
          OCTOPUS_CA_CERTIFICATE: certs.caPem,
          HTTP_PROXY: proxy.url,
          HTTPS_PROXY: proxy.url,
          ALL_PROXY: proxy.url,
        },
        (engine) => roundTrip(engine, "loopback-direct"),
      );
      // The credential went to the server, not through the proxy.
      expect(proxy.seen.length - before).toBe(0);
    },
  );

  test("https goes through HTTPS_PROXY as a CONNECT tunnel, private CA and all", async () => {
    await withEngine(remoteEnv({ HTTPS_PROXY: proxy.url }), (engine) =>
      roundTrip(engine, "via-connect"),
    );
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((s) => s.kind === "connect" && s.target === new URL(remote).host)).toBe(
      true,
    );
  });

  test("a proxy given without a scheme is an http:// one, as for curl", async () => {
    await withEngine(remoteEnv({ HTTPS_PROXY: new URL(proxy.url).host }), (engine) =>
      roundTrip(engine, "scheme-less-proxy"),
    );
    expect(proxy.seen.length).toBeGreaterThan(0);
  });

  test("lower-case https_proxy and ALL_PROXY are honoured too", async () => {
    await withEngine(remoteEnv({ https_proxy: proxy.url }), (engine) =>
      roundTrip(engine, "via-lower-case"),
    );
    const seen = proxy.seen.length;
    expect(seen).toBeGreaterThan(0);
    await withEngine(remoteEnv({ ALL_PROXY: proxy.url }), (engine) =>
      roundTrip(engine, "via-all-proxy"),
    );
    expect(proxy.seen.length).toBeGreaterThan(seen);
  });

  test("a proxy setting that is no URL is a configuration error that does not repeat it", async () => {
    await withEngine(
      remoteEnv({ HTTPS_PROXY: "socks5://user:socks-secret@127.0.0.1:1" }),
      async (engine) => {
        const error = await failure(engine.up("bad-proxy", { purpose: "bad proxy" }));
        expect(error.message).toMatch(/HTTPS_PROXY \(or ALL_PROXY\) is not a proxy URL/);
        expect(error.message).toMatch(/NO_PROXY/);
        expect(error.message).not.toContain("socks-secret");
      },
    );
    expect(proxy.seen).toEqual([]);
  });

  test("a proxy that refuses the tunnel gives an error naming the proxy settings", async () => {
    // No route for octopus.internal: this proxy refuses the CONNECT.
    const refusing = await startForwardProxy();
    const before = named.connections;
    try {
      // The client picks its proxy when it is made, as the environment stands then.
      process.env.HTTPS_PROXY = `http://proxyuser:proxy-secret@${new URL(refusing.url).host}`;
      let error: Error;
      try {
        const c = new OctopusClient(
          endpointFrom({
            address: remote,
            apiKey: emulator.admin.apiKey,
            caCertificate: certs.caPem,
          }),
          { maxAttempts: 1 },
        );
        error = await failure(c.currentUser());
      } finally {
        delete process.env.HTTPS_PROXY;
      }
      expect((error as OctopusError).code).toBe("NETWORK");
      expect(error.message).toMatch(/HTTPS_PROXY/);
      expect(error.message).not.toContain("proxy-secret");
      expect(refusing.seen).toHaveLength(1);
      expect(named.connections - before).toBe(0);
    } finally {
      await refusing.close();
    }
  });
});

describe("which proxy a server gets: proxy-from-env, and never one for loopback", () => {
  const PROXY = "http://proxy.test:3128";
  /** `proxyFor(url)` with only `variables` set among the proxy variables. */
  function decide(url: string, variables: Record<string, string>): string | undefined {
    const saved = { ...process.env };
    try {
      for (const name of Object.keys(process.env)) {
        if (/_proxy$/i.test(name)) delete process.env[name];
      }
      Object.assign(process.env, variables);
      return proxyFor(url);
    } finally {
      process.env = saved;
    }
  }

  test.each([
    ["*", "https://octopus.example.com", false],
    ["", "https://octopus.example.com", true],
    ["octopus.example.com", "https://octopus.example.com", false],
    ["octopus.example.com", "https://OCTOPUS.Example.com:8443", false],
    ["OCTOPUS.EXAMPLE.COM", "https://octopus.example.com", false],
    ["octopus.example.com", "https://other.example.com", true],
    // As proxy-from-env reads it: a bare name matches that host only; a leading dot or `*.` matches
    // the subdomains.
    ["example.com", "https://octopus.example.com", true],
    [".example.com", "https://octopus.example.com", false],
    ["*.example.com", "https://deep.octopus.example.com", false],
    [".example.com", "https://example.com.evil.test", true],
    ["octopus.example.com:443", "https://octopus.example.com", false],
    ["octopus.example.com:80", "https://octopus.example.com", true],
    ["other.test, octopus.example.com", "https://octopus.example.com", false],
    ["[2001:db8::1]", "https://[2001:db8::1]", false],
    ["10.0.0.5", "https://10.0.0.5", false],
  ])("NO_PROXY=%j for %s: proxied %s", (noProxy, url, proxied) => {
    expect(decide(url, { HTTPS_PROXY: PROXY, NO_PROXY: noProxy })).toBe(
      proxied ? PROXY : undefined,
    );
  });

  test.each([
    "http://127.0.0.1:8080",
    "http://127.9.9.9",
    "https://localhost:8443",
    "http://LOCALHOST",
    "http://[::1]:8080",
  ])("%s: loopback, never proxied", (url) => {
    const all = { HTTP_PROXY: PROXY, HTTPS_PROXY: PROXY, ALL_PROXY: PROXY };
    expect(decide(url, all)).toBeUndefined();
  });

  test("HTTPS_PROXY for https, HTTP_PROXY for http, ALL_PROXY for either, lower case first", () => {
    const other = "http://other.test:8080";
    expect(decide("https://octopus.example.com", { HTTP_PROXY: PROXY })).toBeUndefined();
    expect(decide("http://octopus.example.com", { HTTP_PROXY: PROXY })).toBe(PROXY);
    expect(decide("https://octopus.example.com", { ALL_PROXY: PROXY })).toBe(PROXY);
    expect(decide("https://octopus.example.com", { https_proxy: other, HTTPS_PROXY: PROXY })).toBe(
      other,
    );
  });

  test("a proxy without a scheme is spoken to in plain http", () => {
    expect(decide("https://octopus.example.com", { HTTPS_PROXY: "proxy.test:3128" })).toBe(
      "http://proxy.test:3128",
    );
    expect(decide("https://octopus.example.com", { ALL_PROXY: "proxy.test:3128" })).toBe(
      "http://proxy.test:3128",
    );
    expect(decide("https://octopus.example.com", { HTTPS_PROXY: "https://proxy.test" })).toBe(
      "https://proxy.test",
    );
  });
});

// ---- plain http --------------------------------------------------------------------------------

describe("plain http to a host that is not loopback", () => {
  let checker: Engine | undefined;
  const usingChecker = async (body: (engine: Engine) => Promise<void>) => {
    checker ??= await Engine.start({ env: cleanEnv({ OCTOPUS_API_KEY: emulator.admin.apiKey }) });
    await body(checker);
  };
  afterAll(async () => {
    await checker?.close();
    // Nothing the host printed may hold a credential.
    expect(checker?.host.output() ?? "").not.toContain(emulator.admin.apiKey);
  });

  test.each([
    ["http://127.0.0.1:8080", true],
    ["http://127.9.9.9", true],
    ["http://localhost:8080", true],
    ["http://LOCALHOST", true],
    ["http://[::1]:8080", true],
    ["https://octopus.example.com", true],
    ["http://octopus.example.com", false],
    ["http://10.0.0.5", false],
    ["http://0.0.0.0:8080", false],
    ["http://localhost.example.com", false],
    ["http://127.0.0.1.example.com", false],
    ["http://[::ffff:127.0.0.1]", true],
    ["http://localhost.:8080", true],
    ["http://api.localhost", true],
  ])("check of %s: accepted %s", async (address, accepted) => {
    // One host for every address: check depends on the inputs alone here.
    await usingChecker(async (engine) => {
      const urn = engine.urn("insecure");
      const news = { purpose: "p", connection: { address }, __provider: engine.providerText };
      const { failures } = await engine.host.check(urn, {}, news);
      if (accepted) {
        expect(failures).toEqual([]);
      } else {
        expect(failures).toEqual([
          expect.objectContaining({
            property: "connection.address",
            reason: expect.stringMatching(/allowInsecureHttp.*OCTOPUS_ALLOW_INSECURE_HTTP=1/),
          }),
        ]);
        const optedIn = { ...news, connection: { address, allowInsecureHttp: true } };
        expect((await engine.host.check(urn, {}, optedIn)).failures).toEqual([]);
      }
    });
  });

  describe("end to end, with a proxy standing in for the remote host", () => {
    let proxy: ForwardProxy;
    let remote: string;
    beforeEach(async () => {
      // "octopus.example.com" exists only in this proxy's table: it leads to the emulator.
      proxy = await startForwardProxy({ "octopus.example.com:80": new URL(emulator.url).host });
      remote = "http://octopus.example.com";
    });
    afterEach(() => proxy.close());

    test("refused at check: no request is sent", async () => {
      await withEngine(
        { OCTOPUS_URL: remote, OCTOPUS_API_KEY: emulator.admin.apiKey, HTTP_PROXY: proxy.url },
        async (engine) => {
          emulator.resetStats();
          const error = await failure(engine.up("refused", { purpose: "refused" }));
          expect(error.message).toMatch(/connection\.address: uses plain http:\/\//);
          expect(proxy.seen).toEqual([]);
          expect(emulator.stats.requests).toBe(0);
        },
      );
    });

    test("OCTOPUS_ALLOW_INSECURE_HTTP=1 opts in", async () => {
      await withEngine(
        {
          OCTOPUS_URL: remote,
          OCTOPUS_API_KEY: emulator.admin.apiKey,
          OCTOPUS_ALLOW_INSECURE_HTTP: "1",
          HTTP_PROXY: proxy.url,
        },
        (engine) => roundTrip(engine, "insecure-env"),
      );
      expect(proxy.seen.length).toBeGreaterThan(0);
      expect(proxy.seen.every((s) => s.target === "octopus.example.com:80")).toBe(true);
    });

    test("connection.allowInsecureHttp opts in, and the state remembers it for destroy", async () => {
      await withEngine(
        { OCTOPUS_API_KEY: emulator.admin.apiKey, HTTP_PROXY: proxy.url },
        async (engine) => {
          await roundTrip(engine, "insecure-input", {
            connection: { address: remote, allowInsecureHttp: true },
          });
          expect(proxy.seen.length).toBeGreaterThan(0);
          expect(proxy.seen.every((s) => s.target === "octopus.example.com:80")).toBe(true);
        },
      );
    });
  });
});

// ---- keep-alive --------------------------------------------------------------------------------

/** Runs `total` calls of `call`, `parallel` at a time. */
async function load(total: number, parallel: number, call: () => Promise<unknown>) {
  let started = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (started < total) {
        started++;
        await call();
      }
    }),
  );
}

describe("keep-alive", () => {
  test.each([["http"], ["https"]])(
    "%s: 50 requests at parallelism 5 through one client use at most 6 connections",
    async (scheme) => {
      const front = await startFront(emulator.url, scheme === "https" ? { tls: certs.server } : {});
      try {
        const c = client(front.url, scheme === "https" ? { caCertificate: certs.caPem } : {});
        for (let i = 0; i < 10; i++) await c.currentUser();
        expect(front.connections).toBe(1);
        await load(50, 5, () => c.currentUser());
        expect(front.requests).toHaveLength(60);
        expect(front.connections).toBeLessThanOrEqual(6);
      } finally {
        await front.close();
      }
    },
  );

  test("many resources in one run share the host's connections", async () => {
    const front = await startFront(emulator.url);
    try {
      await withEngine(
        { OCTOPUS_URL: front.url, OCTOPUS_API_KEY: emulator.admin.apiKey },
        async (engine) => {
          const names = Array.from({ length: 16 }, (_, i) => `shared-${i}`);
          const queue = [...names];
          const worker = async (step: (name: string) => Promise<unknown>) => {
            for (let name = queue.shift(); name; name = queue.shift()) await step(name);
          };
          const four = (step: (name: string) => Promise<unknown>) =>
            Promise.all(Array.from({ length: 4 }, () => worker(step)));
          await four((name) => engine.up(name, { purpose: name, username: "ci-bot" }));
          queue.push(...names);
          await four((name) => engine.destroy(name));
        },
      );
      // 16 creates, 16 revokes and the user lookup(s), over a handful of connections.
      expect(front.requests.length).toBeGreaterThanOrEqual(33);
      expect(front.connections).toBeLessThanOrEqual(6);
      expect(emulator.liveKeys().filter((k) => k.Purpose.startsWith("shared-"))).toEqual([]);
    } finally {
      await front.close();
    }
  });
});

// ---- redirects ---------------------------------------------------------------------------------

describe("redirects are not followed", () => {
  let elsewhere: Front;
  let redirector: Front;
  beforeAll(async () => {
    // Any request reaching "elsewhere" is recorded (and answered by the emulator).
    elsewhere = await startFront(emulator.url);
    const target = new URL(elsewhere.url);
    target.username = "someone";
    target.password = "location-password";
    redirector = await startFront(emulator.url, {
      answer: (req, res) => {
        const status = req.method === "POST" ? 307 : 302;
        res.writeHead(status, { location: `${target.origin}${req.url}?apikey=leaked` });
        res.end();
        return true;
      },
    });
  });
  afterAll(async () => {
    await redirector.close();
    await elsewhere.close();
  });

  test("a GET answered with 302 to another origin: an error naming the fix, nothing sent there", async () => {
    const error = await failure(client(redirector.url).currentUser());
    expect(error).toMatchObject({ code: "HTTP_ERROR", status: 302 });
    expect(error.message).toMatch(/redirect \(302\)/);
    expect(error.message).toContain(`${new URL(elsewhere.url).origin}/api/users/me`);
    expect(error.message).toMatch(/set connection\.address to the server's final URL/);
    expect(error.message).not.toContain("location-password");
    expect(error.message).not.toContain("leaked");
    expect(elsewhere.requests).toEqual([]);
    // One request, not retried.
    expect(redirector.requests).toHaveLength(1);
  });

  test("a relative Location is reported as the absolute URL it points to", async () => {
    const relative = await startFront(emulator.url, {
      answer: (_req, res) => {
        res.writeHead(302, { location: "/app#/users/sign-in" }).end();
        return true;
      },
    });
    try {
      const error = await failure(client(relative.url).currentUser());
      expect(error.message).toContain(`${relative.url}/app`);
    } finally {
      await relative.close();
    }
  });

  test("through the host: the up fails, no key is made, the other origin sees nothing", async () => {
    await withEngine(
      { OCTOPUS_URL: redirector.url, OCTOPUS_API_KEY: emulator.admin.apiKey },
      async (engine) => {
        emulator.resetStats();
        const error = await failure(
          engine.up("redirected", { purpose: "redirected", userId: emulator.serviceAccount.id }),
        );
        expect(error.message).toMatch(/set OCTOPUS_URL to the server's final URL/);
        expect(emulator.stats.requests).toBe(0);
      },
    );
    expect(elsewhere.requests).toEqual([]);
    expect(
      redirector.requests.every((r) => r.headers["x-octopus-apikey"] === emulator.admin.apiKey),
    ).toBe(true);
  });

  test("a POST answered with 307 is not repeated anywhere", async () => {
    const before = redirector.requests.length;
    const error = await failure(
      client(redirector.url).createApiKey(emulator.serviceAccount.id, { purpose: "307" }),
    );
    expect(error).toMatchObject({ status: 307 });
    expect(redirector.requests.length - before).toBe(1);
    expect(elsewhere.requests).toEqual([]);
  });
});
