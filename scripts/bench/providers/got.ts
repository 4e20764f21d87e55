/**
 * The got floor: the least a provider can do to send our requests with got configured as ours is
 * (keep-alive agents, one `got.extend`, the same timeout, headers and response type). got starts
 * loading at configure and the user lookup at the first Check, once per host; each create POSTs,
 * each delete DELETEs.
 */
import http from "node:http";
import https from "node:https";
import type { Got } from "got" with { "resolution-mode": "import" };
import { attachTo, pickUser, Props, server, usersPath } from "./attach";

let client: Promise<Got> | undefined;
let base = "";
let userId: Promise<string> | undefined;

/**
 * One request. A GET or DELETE whose keep-alive socket the server closed meanwhile is retried
 * once, as ours retries idempotent requests; a POST is not (ours reconciles instead).
 */
async function send(method: "GET" | "POST" | "DELETE", path: string, json?: unknown) {
  const http = await client!;
  const response = await http(base + path, { method, json }).catch((error: { code?: string }) => {
    if (method === "POST" || error.code !== "ECONNRESET") throw error;
    return http(base + path, { method, json });
  });
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw new Error(`${method} ${path} answered ${response.statusCode}`);
  }
  return response.body as string;
}

export function attach(target: object): void {
  attachGotFloor(target, (key, user) => ({ apiKey: key.ApiKey, userId: user }));
}

/** What the POST answers; the floor reads no more of it than its outputs need. */
export interface CreatedKey {
  Id: string;
  ApiKey: string;
  Created?: string;
  Expires?: string | null;
  ActorType?: string;
}

/** The got floor, with `outputs` making a created key's outputs. */
export function attachGotFloor(
  target: object,
  outputs: (key: CreatedKey, userId: string, inputs: Props) => Props,
): void {
  const { url, apiKey } = server();
  base = url;
  const options = { keepAlive: true, maxSockets: 32 };
  client ??= import("got").then(({ got }) =>
    got.extend({
      headers: { "x-octopus-apikey": apiKey, accept: "application/json" },
      responseType: "text",
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      timeout: { request: 30_000 },
      agent: { http: new http.Agent(options), https: new https.Agent(options) },
    }),
  );
  attachTo(target, {
    async check(_olds, news) {
      const username = String(news.username);
      userId ??= send("GET", usersPath(username)).then((text) => pickUser(text, username));
      userId.catch(() => (userId = undefined));
      return { inputs: news };
    },
    async create(inputs) {
      const user = await userId!;
      const key = JSON.parse(
        await send("POST", `/api/users/${user}/apikeys`, { Purpose: inputs.purpose }),
      ) as CreatedKey;
      return { id: key.Id, outs: outputs(key, user, inputs) };
    },
    async delete(id, props) {
      await send("DELETE", `/api/users/${String(props.userId)}/apikeys/${id}`);
    },
  });
}
