import { Client, userGetCurrent } from "@octopusdeploy/api-client";
import { OctopusEmulator, type EmulatorOptions } from "../emulator/server";

// Response bodies are free-form JSON; the assertions below pin their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface CallOptions {
  key?: string;
  bearer?: string;
  body?: unknown;
  rawBody?: string;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

const UNAUTHENTICATED =
  "You must be logged in to perform this action. Please provide a valid API key or log in again.";
const OCTOPUS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;
const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date("2026-01-02T10:11:12.123Z");

let emu: OctopusEmulator;

async function start(options: EmulatorOptions = {}): Promise<OctopusEmulator> {
  emu = await OctopusEmulator.start({ seed: 42, ...options });
  emu.setNow(T0);
  return emu;
}

afterEach(async () => {
  await emu?.close();
});

/** `path` is relative to the emulator URL (e.g. "/api/users/me"). */
async function call(method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.key !== undefined) headers["X-Octopus-ApiKey"] = o.key;
  if (o.bearer !== undefined) headers.Authorization = `Bearer ${o.bearer}`;
  let body: string | undefined = o.rawBody;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(`${emu.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Follows a link from a response: links are server-root relative, base path included. */
function follow(link: string, key: string): Promise<Reply> {
  return call("GET", link.slice(new URL(emu.url).pathname.replace(/\/$/, "").length), { key });
}

const createKey = (userId: string, key: string, body: unknown): Promise<Reply> =>
  call("POST", `/api/users/${userId}/apikeys`, { key, body });

describe("root document", () => {
  test("GET /api answers without authentication with Octopus' root document", async () => {
    await start({ version: "2025.4.1234" });
    const res = await call("GET", "/api");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.json).toMatchObject({
      Application: "Octopus Deploy",
      Version: "2025.4.1234",
      ApiVersion: "3.0.0",
      InstallationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      Links: {
        Self: "/api",
        CurrentUser: "/api/users/me",
        Users: "/api/users{/id}{?skip,take,ids,filter}",
      },
    });
  });

  test("the official api-client connects, reads the current user and creates and revokes a key", async () => {
    await start();
    const client = await Client.create({
      instanceURL: emu.url,
      apiKey: emu.admin.apiKey,
      userAgentApp: "emulator-test",
    });
    expect((await client.getServerInformation()).version).toBe("2026.3.5000");
    const me = await userGetCurrent(client);
    expect(me.Username).toBe("admin");

    const created = await client.post<Json>(
      "~/api/users/{userId}/apikeys",
      { Purpose: "from api-client" },
      { userId: emu.serviceAccount.id },
    );
    expect(created.ApiKey).toMatch(/^API-[A-Z0-9]{26,27}$/);
    expect(emu.hasKey(created.Id)).toBe(true);
    await client.del(created.Links.Self);
    expect(emu.hasKey(created.Id)).toBe(false);
  });

  test("the api-client surfaces the 401 of a bad key", async () => {
    await start();
    const client = await Client.create({
      instanceURL: emu.url,
      apiKey: "API-NOTAREALKEY0000000000000",
      userAgentApp: "emulator-test",
    });
    await expect(userGetCurrent(client)).rejects.toMatchObject({ StatusCode: 401 });
  });
});

describe("authentication", () => {
  beforeEach(() => start());

  test("accepts the X-Octopus-ApiKey header, the apikey query parameter and a bearer token", async () => {
    const byHeader = await call("GET", "/api/users/me", { key: emu.admin.apiKey });
    expect(byHeader.status).toBe(200);
    expect(byHeader.json).toMatchObject({ Id: emu.admin.id, Username: "admin", IsRequestor: true });

    const byQuery = await call("GET", `/api/users/me?apikey=${emu.user.apiKey}`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.json.Username).toBe("jane.doe");

    const token = emu.issueAccessToken(emu.serviceAccount.id);
    const byBearer = await call("GET", "/api/users/me", { bearer: token });
    expect(byBearer.status).toBe(200);
    expect(byBearer.json).toMatchObject({ Username: "ci-bot", IsService: true });
  });

  test("access tokens are for service accounts only and stop working when they expire", async () => {
    expect(() => emu.issueAccessToken(emu.user.id)).toThrow(/service account/);
    const token = emu.issueAccessToken(emu.serviceAccount.id, new Date(T0.getTime() + 60_000));
    expect((await call("GET", "/api/users/me", { bearer: token })).status).toBe(200);
    emu.advance(60_000);
    expect((await call("GET", "/api/users/me", { bearer: token })).status).toBe(401);
    expect((await call("GET", "/api/users/me", { bearer: "not-a-token" })).status).toBe(401);
  });

  test("answers 401 with Octopus' body when no key or an unknown key is given", async () => {
    for (const res of [
      await call("GET", "/api/users/me"),
      await call("GET", "/api/users/me", { key: "" }),
      await call("GET", "/api/users/me", { key: "API-UNKNOWNUNKNOWNUNKNOWN1234" }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(res.json).toEqual({ ErrorMessage: UNAUTHENTICATED, Errors: [UNAUTHENTICATED] });
    }
  });

  test("a revoked key answers 401", async () => {
    const { id, secret } = emu.createKey(emu.user.id, { purpose: "soon revoked" });
    expect((await call("GET", "/api/users/me", { key: secret })).status).toBe(200);
    emu.revokeKey(id);
    expect((await call("GET", "/api/users/me", { key: secret })).status).toBe(401);
  });

  test("a key answers 401 once the clock passes its expiry", async () => {
    const { secret } = emu.createKey(emu.user.id, {
      purpose: "short",
      expires: new Date(T0.getTime() + DAY),
    });
    emu.advance(DAY - 1);
    expect((await call("GET", "/api/users/me", { key: secret })).status).toBe(200);
    emu.advance(1);
    expect((await call("GET", "/api/users/me", { key: secret })).status).toBe(401);
  });

  test("a disabled user's keys and tokens answer 401 until it is enabled again", async () => {
    const token = emu.issueAccessToken(emu.serviceAccount.id);
    emu.setUserActive(emu.user.id, false);
    emu.setUserActive(emu.serviceAccount.id, false);
    expect((await call("GET", "/api/users/me", { key: emu.user.apiKey })).status).toBe(401);
    expect((await call("GET", "/api/users/me", { bearer: token })).status).toBe(401);
    emu.setUserActive(emu.user.id, true);
    expect((await call("GET", "/api/users/me", { key: emu.user.apiKey })).status).toBe(200);
  });

  test("deleting a user deletes its keys", async () => {
    const extra = emu.addUser({ username: "leaver" });
    expect(emu.liveKeys(extra.id)).toHaveLength(1);
    emu.deleteUser(extra.id);
    expect(emu.liveKeys(extra.id)).toHaveLength(0);
    expect((await call("GET", "/api/users/me", { key: extra.apiKey })).status).toBe(401);
    const lookup = await call("GET", `/api/users/${extra.id}`, { key: emu.admin.apiKey });
    expect(lookup.status).toBe(404);
  });
});

describe("users", () => {
  test("by id: admins read anyone, others only themselves, unknown ids are 404", async () => {
    await start();
    const jane = await call("GET", `/api/users/${emu.user.id}`, { key: emu.admin.apiKey });
    expect(jane.status).toBe(200);
    expect(jane.json).toMatchObject({
      Id: emu.user.id,
      Username: "jane.doe",
      DisplayName: "Jane Doe",
      EmailAddress: "jane.doe@example.com",
      IsActive: true,
      IsService: false,
      IsRequestor: false,
      Identities: [],
      Links: {
        Self: `/api/users/${emu.user.id}`,
        ApiKeys: `/api/users/${emu.user.id}/apikeys{/id}{?skip,take}`,
      },
    });

    const self = await call("GET", `/api/users/${emu.user.id}`, { key: emu.user.apiKey });
    expect(self.status).toBe(200);

    const other = await call("GET", `/api/users/${emu.admin.id}`, { key: emu.user.apiKey });
    expect(other.status).toBe(403);
    expect(other.json.ErrorMessage).toMatch(
      /^You do not have permission.*Missing permission: UserView$/,
    );

    const missing = await call("GET", "/api/users/Users-9999", { key: emu.admin.apiKey });
    expect(missing.status).toBe(404);
    expect(missing.json.ErrorMessage).toBe("The resource you requested was not found.");
    expect(missing.json.Errors).toHaveLength(1);
  });

  test("filter is a partial, case-insensitive match and Page.Next walks every page", async () => {
    await start({ users: 95 });
    const first = await call("GET", "/api/users?filter=USER-000&take=20", {
      key: emu.admin.apiKey,
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      ItemType: "User",
      TotalResults: 95,
      ItemsPerPage: 20,
      NumberOfPages: 5,
      LastPageNumber: 4,
    });
    expect(first.json.Links.Template).toBe("/api/users{?skip,take,ids,filter}");
    expect(first.json.Links["Page.Last"]).toBe("/api/users?skip=80&take=20&filter=USER-000");

    const seen: string[] = [];
    let page = first;
    let pages = 1;
    for (;;) {
      seen.push(...page.json.Items.map((u: Json) => u.Username));
      const next = page.json.Links["Page.Next"];
      if (!next) break;
      page = await follow(next, emu.admin.apiKey);
      expect(page.status).toBe(200);
      pages += 1;
    }
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(95);
    expect(seen).toContain("user-00001");
    expect(seen).toContain("user-00095");
  });

  test("filter also matches display names and email addresses; default take is 30", async () => {
    await start({ users: 40 });
    const robot = emu.addUser({
      username: "svc-deployer",
      displayName: "Deploy Robot",
      email: "robots@corp.example",
      isService: true,
    });
    for (const filter of ["deploy%20ROB", "ROBOTS@CORP", "svc-DEP"]) {
      const res = await call("GET", `/api/users?filter=${filter}`, { key: emu.admin.apiKey });
      expect(res.json.Items.map((u: Json) => u.Id)).toEqual([robot.id]);
    }
    const all = await call("GET", "/api/users", { key: emu.admin.apiKey });
    expect(all.json.ItemsPerPage).toBe(30);
    expect(all.json.Items).toHaveLength(30);
    expect(all.json.TotalResults).toBe(44);
    expect(all.json.Links["Page.Next"]).toBe("/api/users?skip=30&take=30");
  });

  test("listing users needs an administrator; /all is an unpaged array", async () => {
    await start({ users: 7 });
    const denied = await call("GET", "/api/users?filter=jane", { key: emu.user.apiKey });
    expect(denied.status).toBe(403);
    expect(denied.json.ErrorMessage).toMatch(/Missing permission: UserView/);
    expect((await call("GET", "/api/users/all", { key: emu.user.apiKey })).status).toBe(403);

    const all = await call("GET", "/api/users/all", { key: emu.admin.apiKey });
    expect(all.status).toBe(200);
    expect(Array.isArray(all.json)).toBe(true);
    expect(all.json.map((u: Json) => u.Username)).toEqual([
      "admin",
      "ci-bot",
      "jane.doe",
      ...Array.from({ length: 7 }, (_, i) => `user-0000${i + 1}`),
    ]);
  });
  test("the list and /all are sorted by username, case-insensitively, whatever the ids", async () => {
    await start({ users: 2 });
    // Added after the seeded users, so their ids are higher than admin's, ci-bot's and jane.doe's.
    for (const username of ["zed", "Bob", "alice", "Carol"]) emu.addUser({ username });
    const expected = [
      "admin",
      "alice",
      "Bob",
      "Carol",
      "ci-bot",
      "jane.doe",
      "user-00001",
      "user-00002",
      "zed",
    ];
    const seen: string[] = [];
    let page = await call("GET", "/api/users?take=4", { key: emu.admin.apiKey });
    for (;;) {
      seen.push(...page.json.Items.map((u: Json) => u.Username));
      if (!page.json.Links["Page.Next"]) break;
      page = await follow(page.json.Links["Page.Next"], emu.admin.apiKey);
    }
    expect(seen).toEqual(expected);
    const all = await call("GET", "/api/users/all", { key: emu.admin.apiKey });
    expect(all.json.map((u: Json) => u.Username)).toEqual(expected);
    // "I" is in no hex token and no "@example.com" address: in admin ("Administrator"), alice,
    // ci-bot and the fillers ("Filler User …").
    const filtered = await call("GET", "/api/users?filter=I", { key: emu.admin.apiKey });
    expect(filtered.json.Items.map((u: Json) => u.Username)).toEqual([
      "admin",
      "alice",
      "ci-bot",
      "user-00001",
      "user-00002",
    ]);
  });

  test("filter matches a fragment of the identification token, which the resource does not show", async () => {
    await start({ users: 3 });
    const token = emu.serviceAccount.identificationToken;
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(
      new Set([emu.admin, emu.serviceAccount, emu.user].map((u) => u.identificationToken)).size,
    ).toBe(3);
    for (const fragment of [token, token.slice(9, 23).toUpperCase()]) {
      const res = await call("GET", `/api/users?filter=${fragment}`, { key: emu.admin.apiKey });
      expect(res.json.Items.map((u: Json) => u.Id)).toEqual([emu.serviceAccount.id]);
      // The page links echo the filter; the users themselves never show the token.
      expect(JSON.stringify(res.json.Items)).not.toContain(token.slice(9, 23));
    }
    // A service account has no email address: "@" finds only the users that have one.
    const at = await call("GET", "/api/users?filter=%40", { key: emu.admin.apiKey });
    expect(at.json.Items.map((u: Json) => u.Username)).not.toContain("ci-bot");
    expect(at.json.TotalResults).toBe(5);
  });
});

describe("api keys", () => {
  beforeEach(() => start());

  test("create returns the secret once, in Octopus' (2026.3) shape, and the key then authenticates", async () => {
    const res = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "laptop" });
    expect(res.status).toBe(200);
    // The REST reference's ApiKeyCreatedResource: no AccessLevel in the create answer.
    expect(res.json).toEqual({
      Id: expect.stringMatching(/^apikeys-[A-Za-z0-9]{26}$/),
      Purpose: "laptop",
      UserId: emu.user.id,
      ApiKey: expect.stringMatching(/^API-[A-Z0-9]{26,27}$/),
      Created: "2026-01-02T10:11:12.123+00:00",
      Expires: expect.stringMatching(OCTOPUS_DATE),
      ActorType: "User",
      IsLastUsedTimestampKnown: true,
      LastUsedTimeStamp: null,
      LastModifiedBy: "jane.doe",
      LastModifiedOn: "2026-01-02T10:11:12.123+00:00",
      Links: { Self: `/api/users/${emu.user.id}/apikeys/${res.json.Id}` },
    });
    const me = await call("GET", "/api/users/me", { key: res.json.ApiKey });
    expect(me.json.Id).toBe(emu.user.id);
  });

  test("list is newest first, shows only a hint, and filters by partial purpose", async () => {
    const secrets: string[] = [];
    for (const purpose of ["alpha build", "beta deploy", "gamma build"]) {
      emu.advance(1000);
      const res = await createKey(emu.user.id, emu.user.apiKey, { Purpose: purpose });
      secrets.push(res.json.ApiKey);
    }
    const list = await call("GET", `/api/users/${emu.user.id}/apikeys`, { key: emu.user.apiKey });
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ ItemType: "ApiKey", TotalResults: 4 });
    expect(list.json.Items.map((k: Json) => k.Purpose)).toEqual([
      "gamma build",
      "beta deploy",
      "alpha build",
      "Emulator seed",
    ]);
    expect(list.json.Items[0].ApiKey).toEqual({ HasValue: true, Hint: secrets[2].slice(0, 8) });
    for (const secret of [...secrets, emu.user.apiKey]) expect(list.text).not.toContain(secret);

    const builds = await call(
      "GET",
      `/api/users/${emu.user.id}/apikeys?partialPurpose=BUILD&take=1`,
      {
        key: emu.user.apiKey,
      },
    );
    expect(builds.json.TotalResults).toBe(2);
    expect(builds.json.Items.map((k: Json) => k.Purpose)).toEqual(["gamma build"]);
    const next = await follow(builds.json.Links["Page.Next"], emu.user.apiKey);
    expect(next.json.Items.map((k: Json) => k.Purpose)).toEqual(["alpha build"]);
    expect(next.json.Links["Page.Next"]).toBeUndefined();
  });

  test("partialKeyword matches a fragment of the purpose or the hint; with partialPurpose both must match", async () => {
    const made: Json[] = [];
    for (const purpose of ["deploy web", "deploy db", "backup"]) {
      emu.advance(1000);
      made.push((await createKey(emu.user.id, emu.user.apiKey, { Purpose: purpose })).json);
    }
    const list = async (query: string): Promise<Reply> =>
      call("GET", `/api/users/${emu.user.id}/apikeys?${query}`, { key: emu.user.apiKey });
    const purposes = (res: Reply): string[] => res.json.Items.map((k: Json) => k.Purpose);

    expect(purposes(await list("partialKeyword=DEPLOY"))).toEqual(["deploy db", "deploy web"]);
    // The hint is the first 8 characters of the secret ("API-" and 4 more).
    const hint = made[2].ApiKey.slice(0, 8) as string;
    const byHint = await list(`partialKeyword=${hint.slice(2).toLowerCase()}`);
    expect(byHint.json.Items.map((k: Json) => k.Id)).toContain(made[2].Id);
    expect(byHint.json.Items.every((k: Json) => k.ApiKey.Hint.includes(hint.slice(2)))).toBe(true);
    // Every key's hint starts with "API-": the keyword "api-" matches them all.
    expect((await list("partialKeyword=api-")).json.TotalResults).toBe(4);
    // partialPurpose never looks at the hint.
    expect((await list("partialPurpose=api-")).json.TotalResults).toBe(0);
    const both = await list("partialPurpose=deploy&partialKeyword=web&take=1");
    expect(purposes(both)).toEqual(["deploy web"]);
    expect(both.json.Links.Self).toBe(
      `/api/users/${emu.user.id}/apikeys?skip=0&take=1&partialPurpose=deploy&partialKeyword=web`,
    );
    expect(both.json.Links.Template).toBe(
      `/api/users/${emu.user.id}/apikeys{?skip,take,partialPurpose,partialKeyword}`,
    );
  });

  test("keyListFilters: ignored lists every key whatever the filters say", async () => {
    await emu.close();
    await start({ keyListFilters: "ignored" });
    await createKey(emu.user.id, emu.user.apiKey, { Purpose: "wanted" });
    const res = await call(
      "GET",
      `/api/users/${emu.user.id}/apikeys?partialPurpose=wanted&partialKeyword=wanted`,
      { key: emu.user.apiKey },
    );
    expect(res.json.Items.map((k: Json) => k.Purpose)).toEqual(["wanted", "Emulator seed"]);
  });

  test.each([
    ["oldestFirst", (ids: string[]) => [...ids]],
    ["byId", (ids: string[]) => [...ids].sort()],
  ] as const)(
    "keyListOrder: %s lists keys in that order, page after page",
    async (order, expect_) => {
      await emu.close();
      await start({ keyListOrder: order });
      const ids = [emu.liveKeys(emu.user.id)[0].Id];
      for (let i = 0; i < 6; i++) {
        emu.advance(1000);
        ids.push(emu.createKey(emu.user.id, { purpose: `k${i}` }).id);
      }
      const seen: string[] = [];
      let page = await call("GET", `/api/users/${emu.user.id}/apikeys?take=3`, {
        key: emu.user.apiKey,
      });
      for (;;) {
        seen.push(...page.json.Items.map((k: Json) => k.Id));
        if (!page.json.Links["Page.Next"]) break;
        page = await follow(page.json.Links["Page.Next"], emu.user.apiKey);
      }
      expect(seen).toEqual(expect_(ids));
      expect(seen).not.toEqual([...ids].reverse());
    },
  );

  test("get one shows the hint; an unknown key is 404", async () => {
    const created = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "one" });
    const one = await call("GET", `/api/users/${emu.user.id}/apikeys/${created.json.Id}`, {
      key: emu.user.apiKey,
    });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      Id: created.json.Id,
      Purpose: "one",
      ApiKey: { HasValue: true, Hint: created.json.ApiKey.slice(0, 8) },
      Created: created.json.Created,
      Expires: created.json.Expires,
    });
    expect(one.text).not.toContain(created.json.ApiKey);

    const unknown = await call("GET", `/api/users/${emu.user.id}/apikeys/apikeys-nope`, {
      key: emu.user.apiKey,
    });
    expect(unknown.status).toBe(404);
  });

  test("a key id of another user answers 400 'does not belong' to GET and DELETE, and stays", async () => {
    const janes = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "jane's" });
    const expected = {
      ErrorMessage: "This ApiKey does not belong to the specified user.",
      Errors: ["This ApiKey does not belong to the specified user."],
    };
    // Through the administrator's path (who may read anyone's keys) and through the caller's own.
    for (const [userId, key] of [
      [emu.admin.id, emu.admin.apiKey],
      [emu.serviceAccount.id, emu.admin.apiKey],
      [emu.serviceAccount.id, emu.serviceAccount.apiKey],
    ]) {
      const path = `/api/users/${userId}/apikeys/${janes.json.Id}`;
      for (const method of ["GET", "DELETE"]) {
        const res = await call(method, path, { key });
        expect(res.status).toBe(400);
        expect(res.json).toEqual(expected);
      }
    }
    expect(emu.hasKey(janes.json.Id)).toBe(true);
    // Ids compare case-insensitively, for the check too.
    const upper = await call(
      "GET",
      `/api/users/${emu.admin.id}/apikeys/${janes.json.Id.toUpperCase()}`,
      {
        key: emu.admin.apiKey,
      },
    );
    expect(upper.status).toBe(400);
    // Permissions come first: a non-administrator learns nothing about another user's path.
    const denied = await call("GET", `/api/users/${emu.admin.id}/apikeys/${janes.json.Id}`, {
      key: emu.serviceAccount.apiKey,
    });
    expect(denied.status).toBe(403);
  });

  test("wrongOwnerAnswer: notFound answers 404 for another user's key id instead", async () => {
    await emu.close();
    await start({ wrongOwnerAnswer: "notFound" });
    const janes = emu.createKey(emu.user.id, { purpose: "jane's" });
    const path = `/api/users/${emu.admin.id}/apikeys/${janes.id}`;
    expect((await call("GET", path, { key: emu.admin.apiKey })).status).toBe(404);
    expect((await call("DELETE", path, { key: emu.admin.apiKey })).status).toBe(404);
    expect(emu.hasKey(janes.id)).toBe(true);
  });

  test("delete answers 200 {} and the key is gone; deleting again or for an unknown user is 404", async () => {
    const created = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "temp" });
    const path = `/api/users/${emu.user.id}/apikeys/${created.json.Id}`;
    const del = await call("DELETE", path, { key: emu.user.apiKey });
    expect(del.status).toBe(200);
    expect(del.json).toEqual({});
    expect(emu.hasKey(created.json.Id)).toBe(false);
    expect((await call("GET", path, { key: emu.user.apiKey })).status).toBe(404);
    expect((await call("DELETE", path, { key: emu.user.apiKey })).status).toBe(404);
    expect((await call("GET", "/api/users/me", { key: created.json.ApiKey })).status).toBe(401);
    const noUser = await call("DELETE", `/api/users/Users-999/apikeys/${created.json.Id}`, {
      key: emu.admin.apiKey,
    });
    expect(noUser.status).toBe(404);
  });

  test("a missing, empty or non-string purpose and a malformed body are 400", async () => {
    const expected = {
      ErrorMessage: "There was a problem with your request.",
      Errors: ["Please provide a purpose for the API key."],
    };
    for (const body of [{}, { Purpose: "" }, { Purpose: "   " }, { Purpose: 7 }]) {
      const res = await createKey(emu.user.id, emu.user.apiKey, body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual(expected);
    }
    const malformed = await call("POST", `/api/users/${emu.user.id}/apikeys`, {
      key: emu.user.apiKey,
      rawBody: '{"Purpose": ',
    });
    expect(malformed.status).toBe(400);
    expect(emu.liveKeys(emu.user.id)).toHaveLength(1);
  });

  test("liveKeys lists existing keys newest first and never secrets", async () => {
    const a = emu.createKey(emu.user.id, { purpose: "a" });
    emu.advance(5);
    const b = emu.createKey(emu.user.id, { purpose: "b", expires: null });
    const live = emu.liveKeys(emu.user.id);
    expect(live.map((k) => k.Id).slice(0, 2)).toEqual([b.id, a.id]);
    expect(live[0]).toEqual({
      Id: b.id,
      UserId: emu.user.id,
      Purpose: "b",
      Created: "2026-01-02T10:11:12.128+00:00",
      Expires: null,
      expires: null,
      accessLevel: "FullAccess",
      lastUsed: null,
    });
    expect(live[1]).toMatchObject({
      Id: a.id,
      expires: new Date(T0.getTime() + 180 * DAY).toISOString(),
    });
    expect(JSON.stringify(emu.liveKeys())).not.toContain(a.secret);
  });
});

describe("who may manage whose keys", () => {
  beforeEach(() => start());

  test("an administrator creates, lists and revokes keys of a service account", async () => {
    const created = await createKey(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "ci" });
    expect(created.status).toBe(200);
    expect(created.json.UserId).toBe(emu.serviceAccount.id);
    const me = await call("GET", "/api/users/me", { key: created.json.ApiKey });
    expect(me.json.Username).toBe("ci-bot");
    const list = await call("GET", `/api/users/${emu.serviceAccount.id}/apikeys`, {
      key: emu.admin.apiKey,
    });
    expect(list.json.TotalResults).toBe(2);
    const del = await call(
      "DELETE",
      `/api/users/${emu.serviceAccount.id}/apikeys/${created.json.Id}`,
      {
        key: emu.admin.apiKey,
      },
    );
    expect(del.status).toBe(200);
  });

  test("a service account manages its own keys", async () => {
    const created = await createKey(emu.serviceAccount.id, emu.serviceAccount.apiKey, {
      Purpose: "self",
    });
    expect(created.status).toBe(200);
  });

  test("a non-administrator may not touch a service account's keys (403 UserEdit/UserView)", async () => {
    const before = emu.liveKeys(emu.serviceAccount.id).length;
    const create = await createKey(emu.serviceAccount.id, emu.user.apiKey, { Purpose: "sneaky" });
    expect(create.status).toBe(403);
    expect(create.json.ErrorMessage).toBe(
      "You do not have permission to perform this action. Please contact your Octopus administrator. Missing permission: UserEdit",
    );
    expect(emu.liveKeys(emu.serviceAccount.id)).toHaveLength(before);
    const list = await call("GET", `/api/users/${emu.serviceAccount.id}/apikeys`, {
      key: emu.user.apiKey,
    });
    expect(list.status).toBe(403);
  });

  test("nobody, not even an administrator, creates a key for another user who is not a service account", async () => {
    const other = emu.addUser({ username: "bob" });
    for (const caller of [emu.admin.apiKey, other.apiKey, emu.serviceAccount.apiKey]) {
      const res = await createKey(emu.user.id, caller, { Purpose: "for jane" });
      expect(res.status).toBe(403);
      expect(res.json.ErrorMessage).toMatch(/^You do not have permission to perform this action/);
      expect(res.json.Errors.join(" ")).toMatch(/own user account or for service accounts/);
    }
    expect(emu.liveKeys(emu.user.id)).toHaveLength(1);
  });

  test("an administrator lists, reads and revokes another user's keys; a non-admin may not", async () => {
    const { id } = emu.createKey(emu.user.id, { purpose: "audited" });
    const path = `/api/users/${emu.user.id}/apikeys`;
    expect((await call("GET", path, { key: emu.admin.apiKey })).json.TotalResults).toBe(2);
    expect((await call("GET", `${path}/${id}`, { key: emu.admin.apiKey })).status).toBe(200);
    const bob = emu.addUser({ username: "bob" });
    expect((await call("GET", path, { key: bob.apiKey })).status).toBe(403);
    expect((await call("DELETE", `${path}/${id}`, { key: bob.apiKey })).status).toBe(403);
    expect(emu.hasKey(id)).toBe(true);
    expect((await call("DELETE", `${path}/${id}`, { key: emu.admin.apiKey })).status).toBe(200);
    expect(emu.hasKey(id)).toBe(false);
  });

  test("the target user is looked up before permissions: unknown users are 404", async () => {
    const res = await createKey("Users-404", emu.user.apiKey, { Purpose: "x" });
    expect(res.status).toBe(404);
  });
});

describe("expiry rules", () => {
  const at = (days: number, ms = 0): string =>
    new Date(T0.getTime() + days * DAY + ms).toISOString().replace("Z", "+00:00");

  test("omitted Expires gets the default (180 days), null the maximum (366 days)", async () => {
    await start();
    const omitted = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "default" });
    expect(omitted.json.Expires).toBe(at(180));
    const nulled = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "max", Expires: null });
    expect(nulled.json.Expires).toBe(at(366));
    const exact = await createKey(emu.user.id, emu.user.apiKey, {
      Purpose: "exact",
      Expires: "2026-03-01T00:00:00+02:00",
    });
    expect(exact.json.Expires).toBe("2026-02-28T22:00:00.000+00:00");
  });

  test("default and maximum are configurable", async () => {
    await start({ defaultExpiryDays: 30, maxExpiryDays: 90 });
    expect((await createKey(emu.user.id, emu.user.apiKey, { Purpose: "d" })).json.Expires).toBe(
      at(30),
    );
    const max = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "m", Expires: null });
    expect(max.json.Expires).toBe(at(90));
    const over = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "o", Expires: at(91) });
    expect(over.json.Errors).toEqual([
      "The expiry date cannot be more than 90 days in the future.",
    ]);
  });

  test("past, unparsable, beyond-maximum and beyond-the-caller's-key expiries are 400, each with its own message", async () => {
    await start();
    const errorsFor = async (key: string, Expires: unknown): Promise<string[]> => {
      const res = await createKey(emu.serviceAccount.id, key, { Purpose: "p", Expires });
      expect(res.status).toBe(400);
      expect(res.json.ErrorMessage).toBe("There was a problem with your request.");
      return res.json.Errors;
    };
    const past = await errorsFor(emu.admin.apiKey, at(-1));
    expect(past).toEqual(["The expiry date must be in the future."]);
    expect(await errorsFor(emu.admin.apiKey, at(0))).toEqual(past);
    const unparsable = await errorsFor(emu.admin.apiKey, "next tuesday");
    expect(unparsable[0]).toMatch(/could not be parsed/);
    const beyondMax = await errorsFor(emu.admin.apiKey, at(366, 1));
    expect(beyondMax).toEqual(["The expiry date cannot be more than 366 days in the future."]);

    const shortLived = emu.createKey(emu.admin.id, {
      purpose: "short",
      expires: new Date(T0.getTime() + 10 * DAY),
    });
    const beyondCaller = await errorsFor(shortLived.secret, at(10, 1));
    expect(beyondCaller).toEqual([
      "The API key cannot expire after the API key used to create it, which expires 2026-01-12T10:11:12.123+00:00.",
    ]);
    expect(new Set([past[0], unparsable[0], beyondMax[0], beyondCaller[0]]).size).toBe(4);
    expect(emu.liveKeys(emu.serviceAccount.id)).toHaveLength(1);

    const within = await createKey(emu.serviceAccount.id, shortLived.secret, {
      Purpose: "ok",
      Expires: at(10),
    });
    expect(within.status).toBe(200);
  });

  test("a caller whose key expires cannot take the 180-day default either", async () => {
    await start();
    const shortLived = emu.createKey(emu.admin.id, {
      purpose: "short",
      expires: new Date(T0.getTime() + 10 * DAY),
    });
    const res = await createKey(emu.serviceAccount.id, shortLived.secret, { Purpose: "p" });
    expect(res.status).toBe(400);
    expect(res.json.Errors[0]).toMatch(/cannot expire after the API key used to create it/);
  });

  test("a bearer-token caller has no key-expiry limit", async () => {
    await start();
    const token = emu.issueAccessToken(emu.serviceAccount.id, new Date(T0.getTime() + 3600_000));
    const res = await call("POST", `/api/users/${emu.serviceAccount.id}/apikeys`, {
      bearer: token,
      body: { Purpose: "from oidc", Expires: at(300) },
    });
    expect(res.status).toBe(200);
    expect(res.json.Expires).toBe(at(300));
  });

  test("a key created through the API stops authenticating at its expiry", async () => {
    await start();
    const res = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "p", Expires: at(1) });
    emu.advance(DAY);
    expect((await call("GET", "/api/users/me", { key: res.json.ApiKey })).status).toBe(401);
  });

  test("legacy servers: omitted or null Expires never expires and there is no maximum", async () => {
    await start({ legacyNoExpiry: true });
    const omitted = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "old" });
    expect(omitted.status).toBe(200);
    expect(omitted.json.Expires).toBeNull();
    const nulled = await createKey(emu.user.id, emu.user.apiKey, { Purpose: "old", Expires: null });
    expect(nulled.json.Expires).toBeNull();
    const far = await createKey(emu.user.id, emu.user.apiKey, {
      Purpose: "far",
      Expires: at(5000),
    });
    expect(far.status).toBe(200);
    expect(
      (await createKey(emu.user.id, emu.user.apiKey, { Purpose: "p", Expires: at(-1) })).status,
    ).toBe(400);
    emu.advance(4000 * DAY);
    expect((await call("GET", "/api/users/me", { key: omitted.json.ApiKey })).status).toBe(200);
  });
});
