import * as http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * How a forwarding proxy changes an answer on its way back, as a reverse proxy or a server with
 * other habits would: the headers (a copy, changed in place), and a JSON answer's body text.
 */
export interface AnswerRewrite {
  headers?: (headers: http.IncomingHttpHeaders, req: http.IncomingMessage) => void;
  body?: (text: string, req: http.IncomingMessage) => string;
}

/**
 * A request handler that passes each request on to `target` unchanged (but for `Host`), over a
 * keep-alive agent: the core of the recording, counting and rewriting reverse proxies some tests
 * put in front of the emulator. With `rewrite`, answers are changed on the way back (a body
 * rewrite asks for an uncompressed answer and sends the new text with its own length).
 */
export function forwardTo(
  target: string,
  rewrite: AnswerRewrite = {},
): {
  forward: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Closes the kept-alive connections to `target`. */
  close: () => void;
} {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const headers = { ...req.headers, host: upstream.host };
    if (rewrite.body) delete headers["accept-encoding"];
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (answer) => {
        const back = { ...answer.headers };
        rewrite.headers?.(back, req);
        const rewriteBody = rewrite.body;
        if (!rewriteBody || !/json/i.test(String(back["content-type"] ?? ""))) {
          res.writeHead(answer.statusCode ?? 502, back);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("error", () => res.destroy());
        answer.on("end", () => {
          const text = rewriteBody(Buffer.concat(chunks).toString("utf8"), req);
          delete back["content-length"];
          res.writeHead(answer.statusCode ?? 502, back);
          res.end(text);
        });
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  };
  return { forward, close: () => agent.destroy() };
}

/** A listening reverse proxy in front of `target` (on 127.0.0.1), recording request URLs. */
export async function startProxy(
  target: string,
  rewrite: AnswerRewrite = {},
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const { forward, close } = forwardTo(target, rewrite);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const base = new URL(target);
  return {
    url: `http://127.0.0.1:${port}${base.pathname.replace(/\/$/, "")}`,
    requests,
    close: async () => {
      close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
