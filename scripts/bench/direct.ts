/** The runs without a provider host: raw got, the seed scripts' method, and lookup bytes. */
import http from "node:http";
import type { Got } from "got" with { "resolution-mode": "import" };
import type { OctopusEmulator } from "../../emulator/server";
import { OctopusClient } from "../../provider/octopus/client";
import { PURPOSE } from "./host-run";
import { pool, timed } from "./util";

export interface Phase {
  createMs: number;
  deleteMs: number;
}

interface CreatedKey {
  Id: string;
  UserId: string;
}

/** A got client set up as a careful script would: keep-alive, no retries, the admin's key. */
export function rawClient(got: Got, emulator: OctopusEmulator): Got {
  return got.extend({
    headers: { "x-octopus-apikey": emulator.admin.apiKey, accept: "application/json" },
    agent: { http: new http.Agent({ keepAlive: true, maxSockets: 32 }) },
    retry: { limit: 0 },
  });
}

function deleteAll(
  client: Got,
  emulator: OctopusEmulator,
  keys: CreatedKey[],
  parallelism: number,
) {
  return pool(keys.length, parallelism, (i) =>
    client.delete(`${emulator.url}/api/users/${keys[i].UserId}/apikeys/${keys[i].Id}`),
  );
}

/** The same N POSTs and N DELETEs sent straight with got, the user's id known upfront. */
export async function runRaw(
  client: Got,
  emulator: OctopusEmulator,
  n: number,
  parallelism: number,
  label: string,
): Promise<Phase> {
  const userId = emulator.serviceAccount.id;
  const creates = await timed(() =>
    pool(n, parallelism, (i) =>
      client
        .post(`${emulator.url}/api/users/${userId}/apikeys`, {
          json: { Purpose: `${PURPOSE} ${label}.${i}` },
        })
        .json<CreatedKey>(),
    ),
  );
  const deletes = await timed(() => deleteAll(client, emulator, creates.value, parallelism));
  return { createMs: creates.ms, deleteMs: deletes.ms };
}

/** The seed scripts' method per key: every user, find the one by name, then POST. */
export async function runSeed(
  client: Got,
  emulator: OctopusEmulator,
  n: number,
  parallelism: number,
  label: string,
): Promise<Phase> {
  const wanted = emulator.serviceAccount.username.toLowerCase();
  const creates = await timed(() =>
    pool(n, parallelism, async (i) => {
      const users = await client
        .get(`${emulator.url}/api/users/all`)
        .json<Array<{ Id: string; Username: string }>>();
      const user = users.find((u) => u.Username.toLowerCase() === wanted);
      if (!user) throw new Error(`/api/users/all has no ${wanted}`);
      return client
        .post(`${emulator.url}/api/users/${user.Id}/apikeys`, {
          json: { Purpose: `${PURPOSE} ${label}.${i}` },
        })
        .json<CreatedKey>();
    }),
  );
  // Cleanup, timed apart: the seed scripts themselves never revoke.
  const deletes = await timed(() => deleteAll(client, emulator, creates.value, parallelism));
  return { createMs: creates.ms, deleteMs: deletes.ms };
}

/** Response bytes of one call of our client's username lookup (all pages it follows). */
export async function lookupBytes(emulator: OctopusEmulator): Promise<number> {
  const client = new OctopusClient({
    serverUrl: emulator.url,
    credential: { kind: "apiKey", value: emulator.admin.apiKey },
    timeoutMs: 30_000,
    caCertificate: undefined,
  });
  // Once to load got and open a connection, then the measured call.
  await client.findUserByUsername(emulator.serviceAccount.username);
  await emulator.idle();
  const before = emulator.stats.bytesOut;
  const user = await client.findUserByUsername(emulator.serviceAccount.username);
  if (user?.Id !== emulator.serviceAccount.id) throw new Error("the lookup found the wrong user");
  await emulator.idle();
  return emulator.stats.bytesOut - before;
}

/** Response bytes of the seed scripts' lookup (`GET /api/users/all`). */
export async function seedLookupBytes(client: Got, emulator: OctopusEmulator): Promise<number> {
  await emulator.idle();
  const before = emulator.stats.bytesOut;
  await client.get(`${emulator.url}/api/users/all`).text();
  await emulator.idle();
  return emulator.stats.bytesOut - before;
}

/** Keys this benchmark made that are still live: counted, then revoked. Should be none. */
export function sweepLeftovers(emulators: OctopusEmulator[]): number {
  let leftover = 0;
  for (const emulator of emulators) {
    for (const key of emulator.liveKeys()) {
      if (!key.Purpose.startsWith(PURPOSE)) continue;
      leftover++;
      emulator.revokeKey(key.Id);
    }
  }
  return leftover;
}
