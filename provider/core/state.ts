import { OctopusError } from "../octopus/errors";
import {
  ACCESS_LEVELS,
  AccessLevel,
  ACTOR_TYPES,
  ActorType,
  ApiKeyInputs,
  ApiKeyOutputs,
  ConnectionSettings,
} from "./fields";
import { requestedOf, storedPlainOutputs } from "./plain-fields";

/**
 * Version of the stored outputs' shape. Bump it when the shape changes and teach `upgradeState`
 * to read the old one: state written by every earlier release must stay readable, refreshable
 * and destroyable.
 *
 * Fields added with a default that is true of every key an earlier release made do not change
 * it: `accessLevel`, `lastUsed` and `requestedAccessLevel` (added after release 1) read as null
 * from release 1's state — a key made without a level, whose level and use nobody reported yet —
 * and so do `actorType`, `requestedActorType` (a key made without an actor type) and
 * `retiringKeyId`/`retiringKeyExpires` (no rotated-out key left live); release 1, which reads
 * only the fields it knows, can still read state written now.
 */
export const STATE_VERSION = 1;

/** The bookkeeping the provider stores beside the outputs, so that diff can decide from state alone. */
export interface Bookkeeping {
  stateVersion: number;
  /** How the user was chosen: `me` (the caller), `id` or `username`. */
  userSelector: "me" | "id" | "username";
  expiresAt: string | null;
  expiresIn: string | null;
  rotateBefore: string | null;
  rotationTriggers: Record<string, string> | null;
  /** The `accessLevel` input; null for the server's default. */
  requestedAccessLevel: AccessLevel | null;
  /** The `actorType` input; null for the server's default. */
  requestedActorType: ActorType | null;
  /** The `connection` argument, if any (secret); credentials from config or env are never stored. */
  connection: ConnectionSettings | null;
  /** The inputs Octopus keeps as given (./plain-fields), as asked; null when there are none. */
  requested: Record<string, string> | null;
  /** Server clock minus ours when the key was created (at most a day either way), for rotation. */
  clockSkewMs: number;
  /**
   * Made by import: the inputs the key was created with are unknown, only what Octopus reports,
   * so diff reads the program's inputs as the way it was asked for (./import). An update, which
   * records the program's inputs, ends it.
   */
  imported: boolean;
}

/** What the provider stores for a key: the declared outputs and the bookkeeping. Plain JSON only. */
export type ApiKeyState = ApiKeyOutputs & Bookkeeping;

/** Bookkeeping fields that only diff and rotation read, never shown as resource outputs. */
export const INTERNAL_DEFAULTS = {
  expiresAt: null,
  expiresIn: null,
  rotateBefore: null,
  rotationTriggers: null,
  requestedAccessLevel: null,
  requestedActorType: null,
  connection: null,
  requested: null,
  clockSkewMs: 0,
  imported: false,
} as const;

type Internal = keyof typeof INTERNAL_DEFAULTS;

/** The state as stored: bookkeeping fields at their default left out (see {@link stored}). */
export type StoredState = Omit<ApiKeyState, Internal> & Partial<Pick<ApiKeyState, Internal>>;

/**
 * `state` as stored: bookkeeping fields at their default (null, or 0 for `clockSkewMs`) are left
 * out, since {@link upgradeState} reads a missing one as that default; every state goes through
 * each call the engine makes, so a smaller one costs less every time. The resource's outputs stay,
 * null where absent: the resource declares them.
 */
export function stored(state: ApiKeyState): StoredState {
  // Spelled out field by field: this runs for every create, refresh and update, mostly before
  // the JIT has warmed up, where a generic loop over the state costs several times more.
  const {
    expiresAt,
    expiresIn,
    rotateBefore,
    rotationTriggers,
    requestedAccessLevel,
    requestedActorType,
    connection,
    requested,
    clockSkewMs,
    imported,
    ...outputs
  } = state;
  const out: StoredState = outputs;
  if (expiresAt !== null) out.expiresAt = expiresAt;
  if (expiresIn !== null) out.expiresIn = expiresIn;
  if (rotateBefore !== null) out.rotateBefore = rotateBefore;
  if (rotationTriggers !== null) out.rotationTriggers = rotationTriggers;
  if (requestedAccessLevel !== null) out.requestedAccessLevel = requestedAccessLevel;
  if (requestedActorType !== null) out.requestedActorType = requestedActorType;
  if (connection !== null) out.connection = connection;
  if (requested !== null) out.requested = requested;
  if (clockSkewMs !== 0) out.clockSkewMs = clockSkewMs;
  if (imported) out.imported = imported;
  return out;
}

/**
 * Reads outputs written by any release of this package into the current shape. Release 1 is the
 * first; later releases add cases here instead of breaking old stacks.
 */
export function upgradeState(props: Record<string, unknown>): ApiKeyState {
  const version = typeof props.stateVersion === "number" ? props.stateVersion : 1;
  if (version > STATE_VERSION) {
    throw new OctopusError(
      "UNSUPPORTED",
      `This resource was written by a newer pulumi-octopus-apikey (state version ${version}); upgrade the package to manage it`,
    );
  }
  const text = (v: unknown): string | null => (typeof v === "string" ? v : null);
  return {
    stateVersion: STATE_VERSION,
    apiKey: text(props.apiKey) ?? "",
    apiKeyId: text(props.apiKeyId) ?? "",
    userId: text(props.userId) ?? "",
    username: text(props.username) ?? "",
    purpose: text(props.purpose) ?? "",
    created: text(props.created) ?? "",
    expires: text(props.expires),
    hint: text(props.hint) ?? "",
    serverUrl: text(props.serverUrl) ?? "",
    expired: props.expired === true,
    rotateAt: text(props.rotateAt),
    accessLevel: text(props.accessLevel),
    lastUsed: text(props.lastUsed),
    actorType: text(props.actorType),
    retiringKeyId: text(props.retiringKeyId),
    retiringKeyExpires: text(props.retiringKeyExpires),
    ...storedPlainOutputs(props),
    userSelector:
      props.userSelector === "id" || props.userSelector === "username" ? props.userSelector : "me",
    expiresAt: text(props.expiresAt),
    expiresIn: text(props.expiresIn),
    rotateBefore: text(props.rotateBefore),
    rotationTriggers: isStringMap(props.rotationTriggers) ? props.rotationTriggers : null,
    requestedAccessLevel: (ACCESS_LEVELS as readonly unknown[]).includes(props.requestedAccessLevel)
      ? (props.requestedAccessLevel as AccessLevel)
      : null,
    requestedActorType: (ACTOR_TYPES as readonly unknown[]).includes(props.requestedActorType)
      ? (props.requestedActorType as ActorType)
      : null,
    connection: isObject(props.connection) ? (props.connection as ConnectionSettings) : null,
    requested: isStringMap(props.requested) ? props.requested : null,
    clockSkewMs: typeof props.clockSkewMs === "number" ? props.clockSkewMs : 0,
    imported: props.imported === true,
  };
}

/** The inputs kept in state, as create and update record them. */
export function kept(inputs: ApiKeyInputs): Omit<Bookkeeping, "stateVersion" | "clockSkewMs"> {
  return {
    imported: false,
    userSelector: userSelector(inputs),
    expiresAt: inputs.expiresAt ?? null,
    expiresIn: inputs.expiresIn ?? null,
    rotateBefore: inputs.rotateBefore ?? null,
    rotationTriggers: inputs.rotationTriggers ?? null,
    requestedAccessLevel: inputs.accessLevel ?? null,
    requestedActorType: inputs.actorType ?? null,
    connection: inputs.connection ?? null,
    requested: requestedOf(inputs),
  };
}

export function userSelector(inputs: ApiKeyInputs): Bookkeeping["userSelector"] {
  return inputs.userId ? "id" : inputs.username ? "username" : "me";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === "string");
}
