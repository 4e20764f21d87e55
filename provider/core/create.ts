import type { OctopusApiKeyResource, OctopusUser } from "../octopus/client";
import { verifiedAccess } from "./access";
import { actorTypeOption } from "./actor";
import { explainCreate } from "./advice";
import type { Connected } from "./connection/connector";
import type { ApiKeyInputs } from "./fields";
import { outcomeUnknown, reconcile } from "./lost-create";
import { AT_SLACK_MS, IN_SLACK_MS, markedExpiry, RequestedLifetime } from "./marker";
import { sentFields } from "./plain-fields";
import { boundedSkew } from "./rotation";
import { answered } from "./answered";
import { ApiKeyState, kept, STATE_VERSION } from "./state";
import { now, parseDuration, parseTimestamp } from "./time";
import type { UserDirectory } from "./users";

/**
 * The create path, from inputs to state: look up the user, send the create (once, marked so that
 * a lost answer can be traced: ./marker, ./lost-create), verify the access level the key got,
 * and map the answer to state. One instance per provider process: it knows the keys this process
 * made or tracks, and the creates in flight.
 */
export class KeyCreation {
  /** Keys this process created or claimed and still tracks; never named as a lost create's. */
  private readonly known = new Set<string>();
  /** Creates under way per server, user and purpose, with the expiry instant each sent. */
  private readonly creating = new Map<string, Map<Promise<unknown>, number | undefined>>();

  constructor(private readonly users: UserDirectory) {}

  async create(connected: Connected, inputs: ApiKeyInputs): Promise<ApiKeyState> {
    const user = await this.users.find(connected, inputs);
    // The skew is measured against the provider's clock, which rotation decisions use.
    const before = now();
    const key = await this.send(connected, user, inputs);
    // Bounded: an answer dated 400 days off measures no clock (./rotation).
    const clockSkewMs = boundedSkew(Date.parse(key.Created) - (before + now()) / 2);
    const access = await verifiedAccess(connected.client, user, key, inputs);
    const { requestedAccessLevel, ...reported } = access;
    return {
      stateVersion: STATE_VERSION,
      apiKey: key.ApiKey as string,
      userId: user.Id,
      username: user.Username,
      purpose: inputs.purpose,
      serverUrl: connected.endpoint.serverUrl,
      ...answered(key, {
        rotateBefore: inputs.rotateBefore ?? null,
        clockSkewMs,
        hint: "",
        access: reported,
      }),
      ...kept(inputs),
      requestedAccessLevel,
      clockSkewMs,
      // The lifecycle names a rotated-out key left live here (./overlap).
      retiringKeyId: null,
      retiringKeyExpires: null,
    };
  }

  /** Notes a key the stack tracks (seen in a diff), so that it is never named as a lost one. */
  tracked(keyId: string): void {
    if (keyId) this.known.add(keyId);
  }

  /** Forgets a key whose resource was deleted: a long run keeps only what it still tracks. */
  forget(keyId: string): void {
    this.known.delete(keyId);
  }

  /** What this instance holds on to, for tests and benchmarks of a long run's memory. */
  retained(): { known: number; groups: number } {
    return { known: this.known.size, groups: this.creating.size };
  }

  /** POSTs the key once; when the outcome is unknown, finds out and cleans up before failing. */
  private async send(
    { client, endpoint }: Connected,
    user: OctopusUser,
    inputs: ApiKeyInputs,
  ): Promise<OctopusApiKeyResource> {
    const { purpose, accessLevel } = inputs;
    const group = `${client.serverUrl}\n${user.Id.toLowerCase()}\n${purpose.trim()}`;
    const inFlight = this.inFlight(group);
    const lifetime = requestedLifetime(inputs);
    const sent = lifetime ? markedExpiry(lifetime, markersIn(inFlight)) : undefined;
    const expires = sent === undefined ? undefined : new Date(sent).toISOString();
    const sentAt = Date.now();
    const attempt = client
      .createApiKey(user.Id, {
        purpose,
        expires,
        ...(accessLevel ? { accessLevel } : {}),
        ...actorTypeOption(inputs),
        fields: sentFields(inputs),
      })
      .then((key) => {
        this.known.add(key.Id);
        return key;
      });
    inFlight.set(attempt, sent);
    try {
      return await attempt;
    } catch (error) {
      const self = !inputs.userId && !inputs.username;
      if (!outcomeUnknown(error)) throw explainCreate(error, user, expires, self, endpoint);
      this.settle(group, attempt);
      throw await reconcile(
        client,
        user,
        { group, purpose, sentAt, sent, cause: error },
        {
          known: this.known,
          // Other creates of this user and purpose in flight settle first, so that the keys
          // they got are known and never named as this one's.
          othersSettled: () => Promise.allSettled([...(this.creating.get(group)?.keys() ?? [])]),
        },
      );
    } finally {
      this.settle(group, attempt);
    }
  }

  private inFlight(group: string): Map<Promise<unknown>, number | undefined> {
    let creates = this.creating.get(group);
    if (!creates) {
      creates = new Map();
      this.creating.set(group, creates);
    }
    return creates;
  }

  private settle(group: string, attempt: Promise<unknown>): void {
    const creates = this.creating.get(group);
    creates?.delete(attempt);
    if (creates?.size === 0) this.creating.delete(group);
  }
}

/**
 * The lifetime to ask for: explicit, relative to now (resolved once, here), or undefined for the
 * server default. The create marks the exact instant it sends (see ./marker).
 */
function requestedLifetime(inputs: ApiKeyInputs): RequestedLifetime | undefined {
  if (inputs.expiresAt) {
    return { latest: parseTimestamp(inputs.expiresAt) as number, slackMs: AT_SLACK_MS };
  }
  if (inputs.expiresIn) {
    return { latest: now() + (parseDuration(inputs.expiresIn) as number), slackMs: IN_SLACK_MS };
  }
  return undefined;
}

/** The expiry instants the creates in flight sent (those with a lifetime). */
function markersIn(inFlight: Map<Promise<unknown>, number | undefined>): Set<number> {
  const taken = new Set<number>();
  for (const sent of inFlight.values()) if (sent !== undefined) taken.add(sent);
  return taken;
}
