import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { isTransient, neverSent, OctopusClient } from "./client";
import type { OctopusApiKeyResource, OctopusUser } from "./client";
import {
  ConnectionSettings,
  fromConfig,
  fromEnvironment,
  mergeSources,
  normalizeServerUrl,
  ResolvedConnection,
  resolveConnection,
} from "./connection";
import { OctopusError, redact } from "./errors";
import { ApiKeyInputs, inputProblems, isUnknown } from "./inputs";
import { isExpired, rotateAt, rotationDue } from "./rotation";
import { ApiKeyState, STATE_VERSION, upgradeState } from "./state";
import { now, parseDuration, parseTimestamp } from "./time";

type Props = Record<string, unknown>;

/** The methods the dynamic provider host calls, besides `configure`. */
const LIFECYCLE = ["check", "diff", "create", "read", "update", "delete"] as const;

/**
 * How much earlier than the request's send time (in server time) a key may be stamped and still
 * count as its result: the Date header's 1-second resolution plus margin. Keys created longer ago
 * (say, by an earlier `pulumi up`) are never taken for a lost one.
 */
const RECONCILE_TOLERANCE_MS = 5_000;

/**
 * The lifecycle of an Octopus API key, as the Pulumi engine drives it through the dynamic provider
 * host. One instance serves every resource in the host process, so connections and user lookups
 * are shared (and de-duplicated) across resources for the length of one `pulumi` run.
 */
export class ApiKeyProvider implements pulumi.dynamic.ResourceProvider {
  private config: ConnectionSettings = {};
  private readonly clients = new Map<string, OctopusClient>();
  private readonly users = new Map<string, Promise<OctopusUser>>();
  /** Keys this process created or claimed; a reconciliation never mistakes them for its own. */
  private readonly known = new Set<string>();
  /** Creates under way per server, user and purpose, which a reconciliation waits for. */
  private readonly creating = new Map<string, Set<Promise<unknown>>>();

  /**
   * Called by the serialized stub (stub.ts) when the host configures it: puts this provider's
   * lifecycle methods on the host's provider object, then configures.
   */
  attach(target: object, req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    for (const method of LIFECYCLE) {
      Object.assign(target, { [method]: this[method].bind(this) });
    }
    return this.configure(req);
  }

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.config = fromConfig((key) => {
      const value: unknown = req.config.get(key);
      return typeof value === "string" ? value : undefined;
    });
  }

  async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult<ApiKeyInputs>> {
    return guard(async () => {
      const failures = inputProblems(news, olds ?? {}, this.defaults());
      return { inputs: news as unknown as ApiKeyInputs, failures };
    });
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return guard(async () => {
      const state = upgradeState(olds);
      const inputs = news as unknown as ApiKeyInputs;
      const replaces = replacedProperties(state, inputs, this.serverUrlFor(inputs.connection));
      const changes = replaces.length > 0 || updatedInPlace(state, inputs);
      return { changes, replaces, deleteBeforeReplace: false };
    });
  }

  async create(inputs: ApiKeyInputs): Promise<pulumi.dynamic.CreateResult<ApiKeyState>> {
    return guard(async () => {
      const connection = resolveConnection(mergeSources(inputs.connection, ...this.defaults()));
      const client = this.client(connection);
      const user = await this.findUser(client, connection, inputs);
      const expires = requestedExpiry(inputs);

      const self = !inputs.userId && !inputs.username;
      // The skew is measured against the provider's clock, which rotation decisions use.
      const before = now();
      const key = await this.createKey(client, user, inputs.purpose, expires, self);
      const clockSkewMs = Date.parse(key.Created) - (before + now()) / 2;

      const state: ApiKeyState = {
        stateVersion: STATE_VERSION,
        apiKey: key.ApiKey as string,
        apiKeyId: key.Id,
        userId: user.Id,
        username: user.Username,
        purpose: inputs.purpose,
        created: key.Created,
        expires: key.Expires ?? null,
        hint: (key.ApiKey as string).slice(0, 8),
        serverUrl: connection.serverUrl,
        expired: false,
        rotateAt: rotateAt(key.Expires ?? null, inputs.rotateBefore ?? null),
        userSelector: userSelector(inputs),
        expiresAt: inputs.expiresAt ?? null,
        expiresIn: inputs.expiresIn ?? null,
        rotateBefore: inputs.rotateBefore ?? null,
        rotationTriggers: inputs.rotationTriggers ?? null,
        connection: inputs.connection ?? null,
        clockSkewMs: Number.isFinite(clockSkewMs) ? Math.round(clockSkewMs) : 0,
      };
      return { id: key.Id, outs: state };
    });
  }

  async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult<ApiKeyState>> {
    return guard(async () => {
      const state = upgradeState(props ?? {});
      const client = this.client(this.pinnedConnection(state));
      let key: OctopusApiKeyResource;
      try {
        key = await client.getApiKey(requireUserId(state), id);
      } catch (error) {
        // Revoked outside Pulumi, or its user deleted: the resource leaves the state.
        if (error instanceof OctopusError && error.status === 404) return { id: undefined };
        throw explainCommon(error);
      }
      const expires = key.Expires ?? null;
      const hint = typeof key.ApiKey === "object" ? key.ApiKey?.Hint : undefined;
      const refreshed: ApiKeyState = {
        ...state,
        apiKeyId: key.Id ?? id,
        created: key.Created ?? state.created,
        expires,
        hint: hint || state.hint,
        expired: isExpired(expires, now(), state.clockSkewMs),
        rotateAt: rotateAt(expires, state.rotateBefore),
      };
      return { id, props: refreshed };
    });
  }

  async update(
    _id: string,
    olds: Props,
    news: Props,
  ): Promise<pulumi.dynamic.UpdateResult<ApiKeyState>> {
    return guard(async () => {
      const state = upgradeState(olds);
      const inputs = news as unknown as ApiKeyInputs;
      // Only settings that do not touch the key itself change in place; the key, its secret and
      // everything Octopus reported stay as they are.
      const rotateBefore = inputs.rotateBefore ?? null;
      const outs: ApiKeyState = {
        ...state,
        userSelector: userSelector(inputs),
        expiresAt: inputs.expiresAt ?? null,
        expiresIn: inputs.expiresIn ?? null,
        rotateBefore,
        rotateAt: rotateAt(state.expires, rotateBefore),
        connection: inputs.connection ?? null,
      };
      return { outs };
    });
  }

  async delete(id: string, props: Props): Promise<void> {
    return guard(async () => {
      const state = upgradeState(props);
      const client = this.client(this.pinnedConnection(state));
      // Already revoked, or its user deleted (404), is what a revoke wants: success.
      await client.revokeApiKey(requireUserId(state), id).catch((error: unknown) => {
        throw explainCommon(error);
      });
    });
  }

  /** Connection fields from stack config, then the environment (each read when needed). */
  private defaults(): ConnectionSettings[] {
    return [this.config, fromEnvironment()];
  }

  /** The connection to the server a key lives on: its stored `serverUrl`, never another. */
  private pinnedConnection(state: ApiKeyState): ResolvedConnection {
    if (!state.serverUrl) {
      throw new OctopusError(
        "CONFIGURATION",
        "The stored state has no serverUrl; refresh cannot tell which server holds this key",
      );
    }
    return resolveConnection(
      mergeSources(state.connection ?? undefined, ...this.defaults()),
      state.serverUrl,
    );
  }

  private serverUrlFor(connection: ConnectionSettings | undefined): string | undefined {
    const address = mergeSources(connection, ...this.defaults()).address;
    if (typeof address !== "string" || isUnknown(address)) return undefined;
    return normalizeServerUrl(address).url;
  }

  private client(connection: ResolvedConnection): OctopusClient {
    const key = [
      connection.serverUrl,
      fingerprint(connection.credential.value),
      connection.timeoutMs,
      connection.caCertificate ?? "",
    ].join("\n");
    let client = this.clients.get(key);
    if (!client) {
      client = new OctopusClient(connection);
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * The user the key is for, looked up once per server and user for the whole run: concurrent
   * resources share one request. Failed lookups are not cached.
   */
  private findUser(
    client: OctopusClient,
    connection: ResolvedConnection,
    inputs: ApiKeyInputs,
  ): Promise<OctopusUser> {
    const who = inputs.userId
      ? `id:${inputs.userId}`
      : inputs.username
        ? `name:${inputs.username.toLowerCase()}`
        : `me:${fingerprint(connection.credential.value)}`;
    const cacheKey = `${connection.serverUrl}\n${who}`;
    let lookup = this.users.get(cacheKey);
    if (!lookup) {
      lookup = (async () => {
        if (inputs.userId) return client.getUser(inputs.userId);
        if (!inputs.username) return client.currentUser();
        const user = await client.findUserByUsername(inputs.username);
        if (!user) {
          throw new OctopusError(
            "USER_NOT_FOUND",
            `No Octopus user at ${connection.serverUrl} has the username "${inputs.username}"; check the spelling, or give userId instead`,
          );
        }
        return user;
      })().catch((error: unknown) => {
        this.users.delete(cacheKey);
        throw explainLookup(error, inputs);
      });
      this.users.set(cacheKey, lookup);
    }
    return lookup;
  }

  /** POSTs the key once; when the outcome is unknown, finds out and cleans up before failing. */
  private async createKey(
    client: OctopusClient,
    user: OctopusUser,
    purpose: string,
    expires: string | undefined,
    self: boolean,
  ): Promise<OctopusApiKeyResource> {
    const inFlight = this.inFlight(`${client.serverUrl}\n${user.Id}\n${purpose}`);
    const sentAt = Date.now();
    const attempt = client.createApiKey(user.Id, { purpose, expires }).then((key) => {
      this.known.add(key.Id);
      return key;
    });
    inFlight.add(attempt);
    try {
      return await attempt;
    } catch (error) {
      if (!outcomeUnknown(error)) throw explainCreate(error, user, expires, self);
      inFlight.delete(attempt);
      throw await this.reconcile(client, user, purpose, sentAt, error as OctopusError, inFlight);
    } finally {
      inFlight.delete(attempt);
    }
  }

  private inFlight(group: string): Set<Promise<unknown>> {
    let creates = this.creating.get(group);
    if (!creates) {
      creates = new Set();
      this.creating.set(group, creates);
    }
    return creates;
  }

  /**
   * A create whose answer was lost: looks for a key with this purpose that the user gained since
   * the request started, and revokes it (its secret is lost with the answer). Polls for a while,
   * because a slow server may still finish the request after the client gave up.
   */
  private async reconcile(
    client: OctopusClient,
    user: OctopusUser,
    purpose: string,
    sentAt: number,
    cause: OctopusError,
    inFlight: Set<Promise<unknown>>,
  ): Promise<OctopusError> {
    const who = `${user.Username} (${user.Id})`;
    const window = reconcileWindowMs(cause, client.timeoutMs);
    const deadline = Date.now() + window;
    for (let wait = 250; ; wait = Math.min(wait * 2, 4_000)) {
      let keys: OctopusApiKeyResource[];
      try {
        // Only keys created after the request was sent can be the lost one. `Created` is the
        // server's time: the server's Date header tells how far its clock is from ours.
        const createdSince = () =>
          sentAt + (client.serverClockOffsetMs ?? 0) - RECONCILE_TOLERANCE_MS;
        keys = await client.listApiKeys(user.Id, (k) => Date.parse(k.Created) < createdSince());
        keys = keys.filter((k) => Date.parse(k.Created) >= createdSince());
        // Any key listed was made by a request sent before the list was answered. Other creates
        // of this user and purpose then in flight settle first, so the keys they got are known
        // and never taken for the lost one.
        await Promise.allSettled([...inFlight]);
      } catch (listError) {
        return new OctopusError(
          "UNKNOWN_OUTCOME",
          `Creating an API key for ${who} failed (${cause.message}), and checking whether the key was made failed too (${(listError as Error).message}). A key with purpose "${purpose}" may exist without being tracked: look in Octopus under the user's API keys and revoke it, then run pulumi up again`,
          { method: "POST", path: cause.path, cause },
        );
      }
      // Octopus may trim the purpose it stores.
      const lost = keys.find((k) => k.Purpose?.trim() === purpose.trim() && !this.known.has(k.Id));
      if (lost) {
        this.known.add(lost.Id);
        try {
          await client.revokeApiKey(user.Id, lost.Id);
        } catch (revokeError) {
          return new OctopusError(
            "UNKNOWN_OUTCOME",
            `Creating an API key for ${who} lost its answer (${cause.message}); the key was made (${lost.Id}) but its secret cannot be recovered, and revoking it failed (${(revokeError as Error).message}). Revoke ${lost.Id} in Octopus, then run pulumi up again`,
            { method: "POST", path: cause.path, cause },
          );
        }
        return new OctopusError(
          "UNKNOWN_OUTCOME",
          `Creating an API key for ${who} lost its answer (${cause.message}). The key had been made (${lost.Id}); as its secret was lost with the answer, it has been revoked. Nothing is left behind: run pulumi up again`,
          { method: "POST", path: cause.path, cause },
        );
      }
      if (Date.now() + wait > deadline) {
        return new OctopusError(
          "UNKNOWN_OUTCOME",
          `Creating an API key for ${who} failed (${cause.message}); Octopus shows no new key with purpose "${purpose}" after checking for ${Math.round(window / 1000)} s, so none was made. Run pulumi up again` +
            (stillWorking(cause)
              ? `. (If a key with that purpose created around ${new Date(sentAt).toISOString()} appears later, it is not tracked: revoke it in Octopus.)`
              : ""),
          { method: "POST", path: cause.path, cause },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Whether the server may still be working on a request it did not answer. */
function stillWorking(cause: OctopusError): boolean {
  return cause.code === "TIMEOUT" || cause.status === 504;
}

/**
 * How long to keep looking for the key of a create whose outcome is unknown. A server that
 * answered or dropped the connection is done with the request: a short look suffices. One that
 * has not answered in time (or a gateway that gave up on it) may still finish it: look longer.
 */
function reconcileWindowMs(cause: OctopusError, timeoutMs: number): number {
  return stillWorking(cause) ? Math.min(15_000, Math.max(2_000, timeoutMs / 2)) : 1_000;
}

/**
 * Whether a failed POST may have created the key anyway: the connection broke or timed out after
 * sending, a gateway answered 5xx, or the answer was not a created key. A 4xx (429 included) means
 * Octopus refused the request.
 */
function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof OctopusError)) return false;
  if (error.code === "BAD_RESPONSE") return true;
  if (error.status !== undefined) return error.status >= 500;
  return isTransient(error) && !neverSent(error);
}

/** The expiry to ask for: explicit, relative to now (resolved once, here), or the server default. */
function requestedExpiry(inputs: ApiKeyInputs): string | undefined {
  if (inputs.expiresAt) return new Date(parseTimestamp(inputs.expiresAt) as number).toISOString();
  if (inputs.expiresIn)
    return new Date(now() + (parseDuration(inputs.expiresIn) as number)).toISOString();
  return undefined;
}

/** The inputs whose change replaces the key (create the new one first, then revoke the old). */
function replacedProperties(
  state: ApiKeyState,
  inputs: ApiKeyInputs,
  serverUrl: string | undefined,
): string[] {
  const replaces: string[] = [];
  const changed = (property: keyof ApiKeyInputs, differs: () => boolean) => {
    if (isUnknown(inputs[property]) || differs()) replaces.push(property);
  };

  changed("purpose", () => inputs.purpose !== state.purpose);

  if (inputs.userId !== undefined) {
    changed("userId", () => inputs.userId !== state.userId);
  } else if (inputs.username !== undefined) {
    changed("username", () => inputs.username?.toLowerCase() !== state.username.toLowerCase());
  } else if (state.userSelector !== "me") {
    // From a named user to "the caller": without asking the server, it cannot be the same user.
    replaces.push(state.userSelector === "id" ? "userId" : "username");
  }

  if (inputs.expiresAt !== undefined) {
    changed(
      "expiresAt",
      () =>
        state.expiresAt === null ||
        parseTimestamp(inputs.expiresAt as string) !== parseTimestamp(state.expiresAt),
    );
  } else if (inputs.expiresIn !== undefined) {
    changed(
      "expiresIn",
      () =>
        state.expiresIn === null ||
        parseDuration(inputs.expiresIn as string) !== parseDuration(state.expiresIn),
    );
  } else if (state.expiresAt !== null || state.expiresIn !== null) {
    replaces.push(state.expiresAt !== null ? "expiresAt" : "expiresIn");
  }

  const connection = inputs.connection as Record<string, unknown> | undefined;
  if (isUnknown(connection) || isUnknown(connection?.address) || serverUrl !== state.serverUrl) {
    replaces.push("connection");
  }

  changed(
    "rotationTriggers",
    () => stableJson(inputs.rotationTriggers ?? null) !== stableJson(state.rotationTriggers),
  );

  if (!isUnknown(inputs.rotateBefore)) {
    if (rotationDue(state.expires, inputs.rotateBefore ?? null, now(), state.clockSkewMs))
      replaces.push("rotateBefore");
  }
  return replaces;
}

/** Changes that keep the key: credentials, rotateBefore outside the window, equivalent spellings. */
function updatedInPlace(state: ApiKeyState, inputs: ApiKeyInputs): boolean {
  return (
    stableJson(inputs.connection ?? null) !== stableJson(state.connection) ||
    (inputs.rotateBefore ?? null) !== state.rotateBefore ||
    (inputs.expiresAt ?? null) !== state.expiresAt ||
    (inputs.expiresIn ?? null) !== state.expiresIn ||
    userSelector(inputs) !== state.userSelector
  );
}

function userSelector(inputs: ApiKeyInputs): ApiKeyState["userSelector"] {
  return inputs.userId ? "id" : inputs.username ? "username" : "me";
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Props).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function requireUserId(state: ApiKeyState): string {
  if (!state.userId) {
    throw new OctopusError(
      "CONFIGURATION",
      "The stored state has no userId; it was not written by this package",
    );
  }
  return state.userId;
}

function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 16);
}

/** Adds what to do to a failed user lookup. */
function explainLookup(error: unknown, inputs: ApiKeyInputs): unknown {
  if (!(error instanceof OctopusError)) return error;
  if (error.status === 404 && inputs.userId) {
    return withAdvice(error, `no user has the id ${inputs.userId}; check userId`);
  }
  if (error.status === 403 && (inputs.userId || inputs.username)) {
    return withAdvice(
      error,
      "looking up another user needs the UserView permission; use an administrator's API key, or give the key's owner's own credentials and omit userId/username",
    );
  }
  return explainCommon(error);
}

/** Adds what to do to a refused create. */
function explainCreate(
  error: unknown,
  user: OctopusUser,
  expires: string | undefined,
  self: boolean,
): unknown {
  if (!(error instanceof OctopusError)) return error;
  const who = `${user.Username} (${user.Id})`;
  if (error.status === 403) {
    if (self) {
      return withAdvice(
        error,
        "you may not create API keys for your own user; an administrator may have turned off API keys for users (Octopus 2023.2+): use a service account instead",
      );
    }
    if (user.IsService === false) {
      return withAdvice(
        error,
        `Octopus only issues API keys for yourself or for service accounts, and ${who} is not a service account (unless it is your own user, whose keys an administrator may have turned off). Create the key with ${user.Username}'s own credentials and without userId/username, or make it a service account`,
      );
    }
    if (user.IsService) {
      return withAdvice(
        error,
        `creating keys for the service account ${who} needs an administrator (permission UserEdit); use an administrator's API key`,
      );
    }
  }
  if (error.status === 400) {
    const rules = new Set(error.errors.map((reason) => expiryRule(reason, expires)));
    rules.delete(undefined);
    if (rules.size > 0) return withAdvice(error, [...rules].join("; "));
  }
  return explainCommon(error);
}

/**
 * Which of Octopus's expiry rules a 400 reason names, as advice: beyond the server's maximum;
 * after the expiry of the key making the request; in the past. Octopus's own reason is in the
 * message too, so an unrecognised wording loses only the advice.
 */
function expiryRule(reason: string, expires: string | undefined): string | undefined {
  const text = reason.toLowerCase();
  if (/maxim|more than \d+ days|longer than|exceeds? the/.test(text)) {
    return "the expiry is beyond the server's maximum key lifetime (366 days by default, set by an administrator): use a shorter expiresIn/expiresAt";
  }
  if (/(key|credential).*(used to create|making the request|authenticat)|outlive/.test(text)) {
    return "a new key cannot expire after the API key that creates it: use a shorter expiresIn/expiresAt, or authenticate with a key that expires later";
  }
  if (/past|future/.test(text)) {
    return `the expiry (${expires ?? "the server's default"}) is not in the future by the server's clock: choose a later expiresAt, use expiresIn, or check this machine's clock`;
  }
  if (/purpose/.test(text)) return "give a purpose that Octopus accepts";
  return undefined;
}

function explainCommon(error: unknown): unknown {
  if (!(error instanceof OctopusError)) return error;
  switch (error.status) {
    case 401:
      return withAdvice(
        error,
        "check that the API key or access token (connection.apiKey, octopusdeploy:apiKey, OCTOPUS_API_KEY) is valid, unexpired and belongs to an active user",
      );
    case 403:
      return withAdvice(
        error,
        "the credentials lack a permission this needs; use an account that has it",
      );
    case 429:
      return withAdvice(error, "Octopus is rate limiting this client; wait and run again");
    default:
      return error;
  }
}

function withAdvice(error: OctopusError, advice: string): OctopusError {
  return new OctopusError(
    error.code,
    `${error.message.replace(/\.+$/, "")}. ${advice[0].toUpperCase()}${advice.slice(1)}.`,
    {
      status: error.status,
      method: error.method,
      path: error.path,
      errors: error.errors,
    },
  );
}

/**
 * Runs a lifecycle method so that whatever it throws carries no secret: the host prints errors
 * and their stacks, and the engine shows and logs their messages.
 */
async function guard<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof OctopusError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // The original error is dropped on purpose: its message, stack or cause may hold a secret.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(redact(message));
  }
}
