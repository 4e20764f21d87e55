import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import { forwardTo } from "./forward";

/**
 * A handler that may answer a request itself (returning true) instead of passing it on. It may
 * be async; the request is passed on when it resolves to false.
 */
export type Answerer = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => boolean | Promise<boolean>;

/** Bytes a hostile answer wrote to its socket, and whether the client hung up before its end. */
export interface Written {
  bytes: number;
  cutOff: boolean;
}

export interface HostileServer {
  url: string;
  /** Request lines (`METHOD /path?query`) as received. */
  requests: string[];
  /** What each hostile answer wrote, in order. */
  written: Written[];
  /** Answers requests with `answer` (first match wins) until `clear()`. */
  use(answer: Answerer): void;
  clear(): void;
  close(): Promise<void>;
}

/**
 * A reverse proxy on 127.0.0.1 in front of `target` (the emulator) whose answers a test can
 * replace with hostile ones. Every hostile answer is bounded: it stops at a byte bound of its own
 * or when the client hangs up, and records how much it wrote.
 */
export async function startHostileServer(target: string): Promise<HostileServer> {
  const { forward, close: closeUpstream } = forwardTo(target);
  let answerers: Answerer[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    void (async () => {
      for (const answer of answerers) if (await answer(req, res)) return;
      forward(req, res);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    written: hostileWrites,
    use: (answer) => answerers.push(answer),
    clear: () => {
      answerers = [];
    },
    async close() {
      answerers = [];
      closeUpstream();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Every hostile answer's record, in order (shared: a test reads the ones it caused). */
const hostileWrites: Written[] = [];

/**
 * Writes `chunk` over and over, respecting backpressure, until `limit` bytes or until the client
 * hangs up. Resolves with what was written.
 */
export function writeRepeatedly(
  res: http.ServerResponse,
  chunk: Buffer,
  limit: number,
): Promise<Written> {
  const record: Written = { bytes: 0, cutOff: false };
  hostileWrites.push(record);
  return new Promise((resolve) => {
    const done = (cutOff: boolean) => {
      record.cutOff = cutOff;
      resolve(record);
    };
    res.once("close", () => {
      if (!res.writableFinished) done(true);
    });
    const pump = () => {
      while (record.bytes < limit) {
        if (res.destroyed) return;
        record.bytes += chunk.length;
        if (!res.write(chunk)) {
          res.once("drain", pump);
          return;
        }
      }
      res.end(() => done(false));
    };
    pump();
  });
}

const MiB = 1024 * 1024;

/** An answer with no end (chunked), as far as the client is concerned: `limit` bytes of JSON-ish text. */
export function endless(
  res: http.ServerResponse,
  limit = 512 * MiB,
  status = 200,
): Promise<Written> {
  res.writeHead(status, { "content-type": "application/json" });
  res.write('{"Items":[');
  return writeRepeatedly(
    res,
    Buffer.from(`${'{"Id":"Users-1","Username":"x"},'.repeat(2048)}`),
    limit,
  );
}

let bombMember: Buffer | undefined;
/**
 * One gzip member inflating to 64 MiB of spaces (valid JSON whitespace), about 64 KiB. Making it
 * takes 64 MiB for a moment: a test that measures its own memory makes it first.
 */
export function gzipBombMember(): Buffer {
  bombMember ??= zlib.gzipSync(Buffer.alloc(64 * MiB, 0x20), { level: 9 });
  return bombMember;
}

/**
 * A gzip answer of `members` concatenated gzip members, each inflating to 64 MiB: 64 members are
 * about 4 MB on the wire and 4 GiB inflated.
 */
export function gzipBomb(
  res: http.ServerResponse,
  { members = 64, status = 200 }: { members?: number; status?: number } = {},
): Promise<Written> {
  const one = gzipBombMember();
  res.writeHead(status, { "content-type": "application/json", "content-encoding": "gzip" });
  return writeRepeatedly(res, one, one.length * members);
}

/** An answer declaring `bytes` of JSON in Content-Length, and sending them (until hung up on). */
export function declaredHuge(res: http.ServerResponse, bytes = 600 * MiB): Promise<Written> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const total = Math.ceil(bytes / chunk.length) * chunk.length;
  res.writeHead(200, { "content-type": "application/json", "content-length": String(total) });
  return writeRepeatedly(res, chunk, total);
}

/**
 * Passes the request on to `target` and waits for its answer (small: the emulator's), then lets
 * `replace` answer instead: the server acted, the client gets something else.
 */
export function actThenAnswer(
  target: string,
  replace: (res: http.ServerResponse, upstream: { status: number; body: string }) => unknown,
): Answerer {
  const upstream = new URL(target);
  return (req, res) =>
    new Promise<boolean>((resolve, reject) => {
      const forwarded = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, "accept-encoding": "identity" },
          agent: false,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (c: Buffer) => chunks.push(c));
          answer.on("end", () => {
            void replace(res, {
              status: answer.statusCode ?? 0,
              body: Buffer.concat(chunks).toString("utf8"),
            });
            resolve(true);
          });
          answer.on("error", reject);
        },
      );
      forwarded.on("error", reject);
      req.pipe(forwarded);
    });
}

/** JSON `value` as an answer with `status`. */
export function json(res: http.ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(body);
}

/** A value nested `depth` lists deep: `[[[…"x"…]]]`, as JSON text. */
export function deeplyNested(depth: number): string {
  return `${"[".repeat(depth)}"2026-01-01T00:00:00Z"${"]".repeat(depth)}`;
}

/** Matches a request by method and a path pattern (query ignored). */
export function route(req: http.IncomingMessage, method: string, path: RegExp): boolean {
  return req.method === method && path.test((req.url ?? "").split("?")[0]);
}
