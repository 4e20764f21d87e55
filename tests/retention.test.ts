import type { OctopusApiKeyResource, OctopusClient, OctopusUser } from "../provider/octopus/client";
import type { Endpoint } from "../provider/octopus/endpoint";
import { OctopusError } from "../provider/octopus/errors";
import { KeyCreation } from "../provider/core/create";
import type { UserDirectory } from "../provider/core/users";

// What a long run keeps: a key is forgotten when its resource is deleted, and
// the record of creates in flight for a user and purpose goes when the last of them settles.

const user: OctopusUser = { Id: "Users-9", Username: "robot", IsService: true };
const endpoint = { serverUrl: "https://octopus.example.com" } as Endpoint;
/** A directory that knows one user: the creates below need no lookup. */
const users = { find: async () => user } as unknown as UserDirectory;

/** A client whose creates succeed, or fail with a 400 (a known outcome), after a tick. */
function fakeClient(): OctopusClient {
  let next = 0;
  return {
    serverUrl: "https://octopus.example.com",
    timeoutMs: 1_000,
    serverClockOffsetMs: 0,
    async createApiKey(_userId: string, body: { purpose: string; expires?: string }) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (body.purpose === "refused") {
        throw new OctopusError("VALIDATION", "refused", { status: 400 });
      }
      const key: OctopusApiKeyResource = {
        Id: `apikeys-${next++}`,
        Purpose: body.purpose,
        UserId: user.Id,
        ApiKey: "API-FAKEFAKEFAKEFAKE",
        Created: new Date().toISOString(),
        Expires: body.expires ?? null,
      };
      return key;
    },
  } as unknown as OctopusClient;
}

test("1,000 keys created and deleted leave nothing behind; groups go when their creates settle", async () => {
  const creator = new KeyCreation(users);
  const client = fakeClient();
  const ids: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const keys = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        creator.create(
          { client, endpoint, id: 0 },
          { purpose: `purpose ${i % 7}`, expiresIn: "1d" },
        ),
      ),
    );
    ids.push(...keys.map((k) => k.apiKeyId));
    expect(creator.retained().groups).toBe(0);
  }
  await expect(creator.create({ client, endpoint, id: 0 }, { purpose: "refused" })).rejects.toThrow(
    /refused/,
  );
  expect(creator.retained()).toEqual({ known: 1_000, groups: 0 });
  for (const id of ids) creator.forget(id);
  expect(creator.retained()).toEqual({ known: 0, groups: 0 });
});

test("concurrent creates for one user and purpose send distinct expiry instants", async () => {
  const sent: string[] = [];
  const client = fakeClient();
  const create = client.createApiKey.bind(client);
  client.createApiKey = (userId, body) => {
    sent.push(body.expires as string);
    return create(userId, body);
  };
  const creator = new KeyCreation(users);
  const latest = Date.parse("2027-01-01T00:00:00Z");
  await Promise.all(
    Array.from({ length: 500 }, () =>
      creator.create(
        { client, endpoint, id: 0 },
        { purpose: "same", expiresAt: new Date(latest).toISOString() },
      ),
    ),
  );
  expect(new Set(sent).size).toBe(500);
  for (const expires of sent) {
    const at = Date.parse(expires);
    expect(at).toBeLessThanOrEqual(latest);
    expect(at).toBeGreaterThan(latest - 1_000);
    expect(at % 1_000).not.toBe(0);
  }
});
