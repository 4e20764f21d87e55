import type http from "node:http";
import type https from "node:https";
import { HttpProxyAgent, HttpsProxyAgent } from "hpagent";
import { getProxyForUrl } from "proxy-from-env";
import { isLoopbackHost } from "./endpoint";
import { OctopusError } from "./errors";

/**
 * Keep-alive agents that go through the proxy the environment names for `serverUrl`, or
 * `undefined` when no proxy applies.
 */
export function proxyAgentFor(
  serverUrl: string,
  options: https.AgentOptions,
): { agents: { http: http.Agent; https: https.Agent }; proxy: string } | undefined {
  const proxy = proxyFor(serverUrl);
  if (!proxy) return undefined;
  return {
    agents: {
      http: new HttpProxyAgent({ ...options, proxy }),
      https: new HttpsProxyAgent({ ...options, proxy }),
    },
    proxy,
  };
}

/**
 * The proxy URL that requests to `serverUrl` go through, or `undefined` for none. The variables
 * (`HTTPS_PROXY` for https, `HTTP_PROXY` for http, `ALL_PROXY` for both, `NO_PROXY`; either case)
 * are read by proxy-from-env, as curl reads them. A loopback server is never proxied: a proxy
 * cannot mean to reach this machine's loopback, and the credential must not pass through it.
 */
export function proxyFor(serverUrl: string): string | undefined {
  const url = new URL(serverUrl);
  if (isLoopbackHost(url.hostname)) return undefined;
  let proxy = getProxyForUrl(url.href);
  if (!proxy) return undefined;
  // proxy-from-env gives a proxy set without a scheme (`proxy.corp:3128`) the server's scheme;
  // curl, and this package before it, take such a proxy to speak plain http.
  const scheme = url.protocol.slice(0, -1);
  const given = [`${scheme}_proxy`, "all_proxy"].flatMap((name) => [
    process.env[name],
    process.env[name.toUpperCase()],
  ]);
  if (given.some((value) => value && !value.includes("://") && proxy === `${scheme}://${value}`)) {
    proxy = `http://${proxy.slice(scheme.length + 3)}`;
  }
  const parsed = URL.canParse(proxy) ? new URL(proxy) : undefined;
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    throw new OctopusError(
      "CONFIGURATION",
      `${url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY"} (or ALL_PROXY) is not a proxy URL this package can use; give the form http://proxy.example.com:3128, or list the server in NO_PROXY to reach it directly`,
    );
  }
  return proxy;
}
