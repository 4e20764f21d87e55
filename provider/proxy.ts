import type http from "node:http";
import type https from "node:https";
import { HttpProxyAgent, HttpsProxyAgent } from "hpagent";

/**
 * Keep-alive agents that go through the proxy named by HTTPS_PROXY / HTTP_PROXY (either case) for
 * `serverUrl`, or `undefined` when no proxy applies (none set, or the host matches NO_PROXY).
 */
export function proxyAgentFor(
  serverUrl: string,
  options: https.AgentOptions,
  env: NodeJS.ProcessEnv = process.env,
): { http: http.Agent; https: https.Agent } | undefined {
  const url = new URL(serverUrl);
  const proxy =
    url.protocol === "https:"
      ? (env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy)
      : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy || bypassesProxy(url, env.NO_PROXY ?? env.no_proxy ?? "")) return undefined;
  return {
    http: new HttpProxyAgent({ ...options, proxy }),
    https: new HttpsProxyAgent({ ...options, proxy }),
  };
}

/** NO_PROXY as curl reads it: `*`, host names (a leading dot or none matches subdomains), host:port. */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === "*") return true;
      const [name, entryPort] = entry
        .toLowerCase()
        .replace(/^\*/, "")
        .split(/:(?=\d+$)/);
      if (entryPort && entryPort !== port) return false;
      const bare = name.replace(/^\./, "");
      return host === bare || host.endsWith(`.${bare}`);
    });
}
