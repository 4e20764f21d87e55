/**
 * The got floor with ours' outputs: the same requests as got.ts, and outputs of the shape and size
 * ours stores for the benchmark's keys (the 16 declared outputs, the state version, how the user
 * was chosen, the clock skew). Ours against it is what our code costs; it against the got floor
 * is what carrying that state through the host and the engine costs.
 */
import { server } from "./attach";
import { attachGotFloor } from "./got";

export function attach(target: object): void {
  attachGotFloor(target, (key, userId, inputs) => ({
    stateVersion: 1,
    apiKey: key.ApiKey,
    apiKeyId: key.Id,
    userId,
    username: String(inputs.username),
    purpose: String(inputs.purpose),
    created: key.Created ?? "",
    expires: key.Expires ?? null,
    hint: key.ApiKey.slice(0, 8),
    serverUrl: server().url,
    expired: false,
    rotateAt: null,
    accessLevel: null,
    lastUsed: null,
    actorType: key.ActorType ?? null,
    retiringKeyId: null,
    retiringKeyExpires: null,
    userSelector: "username",
    clockSkewMs: 1,
  }));
}
