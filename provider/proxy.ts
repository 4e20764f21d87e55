import type http from "node:http";
import type https from "node:https";
import { HttpProxyAgent, HttpsProxyAgent } from "hpagent";
import { OctopusError } from "./errors";

/**
 * Keep-alive agents that go through the proxy named by HTTPS_PROXY / HTTP_PROXY (either case) for
 * `serverUrl`, or `undefined` when no proxy applies (none set, or the host matches NO_PROXY).
 */
export function proxyAgentFor(
  serverUrl: string,
  options: https.AgentOptions,
  env: NodeJS.ProcessEnv = process.env,
): { http: http.Agent; https: https.Agent } | undefined {
  const proxy = proxyFor(serverUrl, env);
  if (!proxy) return undefined;
  return {
    http: new HttpProxyAgent({ ...options, proxy }),
    https: new HttpsProxyAgent({ ...options, proxy }),
  };
}

/** The proxy URL that requests to `serverUrl` go through, or `undefined` for none. */
export function proxyFor(
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const url = new URL(serverUrl);
  const proxy =
    url.protocol === "https:"
      ? (env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy)
      : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy || bypassesProxy(url, env.NO_PROXY ?? env.no_proxy ?? "")) return undefined;
  // As curl does, a proxy given without a scheme (`proxy.corp:3128`) is an http:// one.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
  if (!URL.canParse(withScheme) || !/^https?:$/.test(new URL(withScheme).protocol)) {
    throw new OctopusError(
      "CONFIGURATION",
      "HTTPS_PROXY/HTTP_PROXY is not a proxy URL this package can use; give the form http://proxy.example.com:3128",
    );
  }
  return withScheme;
}

/**
 * NO_PROXY as curl reads it: `*`, host names (a leading dot or none matches subdomains), host:port,
 * IPv6 literals bare (`::1`) or in brackets (`[::1]`, `[::1]:8080`).
 */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === "*") return true;
      const { name, entryPort } = parseEntry(entry.toLowerCase().replace(/^\*/, ""));
      if (entryPort && entryPort !== port) return false;
      const bare = name.replace(/^\./, "");
      return host === bare || host.endsWith(`.${bare}`);
    });
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 literal (whose colons are no port). */
function parseEntry(entry: string): { name: string; entryPort?: string } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: ipv6(bracketed[1]), entryPort: bracketed[2] };
  if (entry.indexOf(":") !== entry.lastIndexOf(":")) return { name: ipv6(entry) };
  const [name, entryPort] = entry.split(/:(?=\d+$)/);
  return { name, entryPort };
}

/** An IPv6 literal in the form URL gives hosts (`2001:0db8::01` is `2001:db8::1`). */
function ipv6(literal: string): string {
  try {
    return new URL(`http://[${literal}]`).hostname.slice(1, -1);
  } catch {
    return literal;
  }
}
