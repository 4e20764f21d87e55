/**
 * The node:http floor, for reference: the got floor's requests (one lookup per host, a POST per
 * create, a DELETE per delete) sent with node:http and a keep-alive agent, no HTTP library.
 */
import http from "node:http";
import { attachTo, pickUser, server, usersPath } from "./attach";

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
let userId: Promise<string> | undefined;
let target = { url: "", apiKey: "" };

/**
 * One request; a reused keep-alive socket that the server closed meanwhile is retried once on a
 * new one, as Node's documentation advises (ours retries such failures too).
 */
async function send(method: string, path: string, json?: unknown): Promise<string> {
  try {
    return await attempt(method, path, json);
  } catch (error) {
    if ((error as { reused?: boolean }).reused) return attempt(method, path, json);
    throw error;
  }
}

function attempt(method: string, path: string, json?: unknown): Promise<string> {
  const { url, apiKey } = target;
  const body = json === undefined ? undefined : JSON.stringify(json);
  const headers: Record<string, string> = {
    "x-octopus-apikey": apiKey,
    accept: "application/json",
  };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const request = http.request(url + path, { method, agent, headers, timeout: 30_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("error", reject);
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) reject(new Error(`${method} ${path} answered ${status}`));
        else resolve(text);
      });
    });
    request.on("timeout", () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on("error", (error: NodeJS.ErrnoException) =>
      reject(Object.assign(error, { reused: request.reusedSocket && error.code === "ECONNRESET" })),
    );
    request.end(body);
  });
}

export function attach(host: object): void {
  target = server();
  attachTo(host, {
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
      ) as { Id: string; ApiKey: string };
      return { id: key.Id, outs: { apiKey: key.ApiKey, userId: user } };
    },
    async delete(id, props) {
      await send("DELETE", `/api/users/${String(props.userId)}/apikeys/${id}`);
    },
  });
}
