/**
 * The probe (providers/probe.ts) for the resource plugin. A dynamic provider host loads the probe
 * as one more provider; the plugin loads only its own package, so the bench preloads this module
 * into the plugin's process instead, with `--require` in NODE_OPTIONS, and only in the runs that
 * read the heap or profile. The plugin's code is not changed and never sees it.
 *
 * It answers each POST on the Unix socket named by BENCH_PROBE_SOCKET: the body is the probe's
 * inputs (`{"action":"memory"}`…), the answer its figures, as JSON. The server is unref'd, so
 * it never keeps the plugin up, and it does nothing between the bench's requests.
 */
import * as http from "node:http";
import { runProbe } from "./providers/probe";

const socket = process.env.BENCH_PROBE_SOCKET;

if (socket) {
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      Promise.resolve()
        .then(() => runProbe(JSON.parse(body) as Record<string, unknown>))
        .then(
          (figures) => {
            response.writeHead(200, { "content-type": "application/json" });
            response.end(JSON.stringify(figures));
          },
          (error: unknown) => {
            response.writeHead(500, { "content-type": "text/plain" });
            response.end(error instanceof Error ? error.message : String(error));
          },
        );
    });
  });
  server.listen(socket);
  server.unref();
}
