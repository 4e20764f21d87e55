import * as http from "node:http";

/**
 * A request handler that passes each request on to `target` unchanged (but for `Host`), over a
 * keep-alive agent: the core of the recording and counting reverse proxies some tests put in
 * front of the emulator.
 */
export function forwardTo(target: string): {
  forward: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Closes the kept-alive connections to `target`. */
  close: () => void;
} {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  };
  return { forward, close: () => agent.destroy() };
}
