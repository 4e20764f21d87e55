import type { ConnectionSettings } from "./connection/settings";

/**
 * Version of the stored outputs' shape. Bump it when the shape changes and teach `upgradeState`
 * to read the old one: state written by every earlier release must stay readable, refreshable
 * and destroyable.
 *
 * Fields added with a default that is true of every key an earlier release made do not change
 * it: `accessLevel`, `lastUsed` and `requestedAccessLevel` (added after release 1) read as null
 * from release 1's state — a key made without a level, whose level and use nobody reported yet —
 * and release 1, which reads only the fields it knows, can still read state written now.
 */
export const STATE_VERSION = 1;

/** What the provider stores for a key (the resource's outputs). Plain JSON only: no undefined. */
export interface ApiKeyState {
  stateVersion: number;
  /** The secret. Declared in `additionalSecretOutputs`, so it is encrypted in state. */
  apiKey: string;
  apiKeyId: string;
  userId: string;
  username: string;
  purpose: string;
  created: string;
  expires: string | null;
  hint: string;
  serverUrl: string;
  /** True when the last create or refresh saw the key past its expiry. */
  expired: boolean;
  /** When the next `pulumi up` replaces the key, or null without `rotateBefore` or expiry. */
  rotateAt: string | null;
  /** The level the server reports for the key (`FullAccess`, `ReadOnly`, `Custom`), or null. */
  accessLevel: string | null;
  /** When the key last authenticated (ISO 8601), as of the last create or refresh; or null. */
  lastUsed: string | null;

  // Inputs kept so that diff can decide from the outputs alone.
  /** How the user was chosen: `me` (the caller), `id` or `username`. */
  userSelector: "me" | "id" | "username";
  expiresAt: string | null;
  expiresIn: string | null;
  rotateBefore: string | null;
  rotationTriggers: Record<string, string> | null;
  /** The `accessLevel` input; null for the server's default. */
  requestedAccessLevel: "FullAccess" | "ReadOnly" | null;
  /** The `connection` argument, if any (secret); credentials from config or env are never stored. */
  connection: ConnectionSettings | null;
  /** Server clock minus ours when the key was created, for rotation decisions. */
  clockSkewMs: number;
}

/** Bookkeeping fields that only diff and rotation read, never shown as resource outputs. */
export const INTERNAL_DEFAULTS = {
  expiresAt: null,
  expiresIn: null,
  rotateBefore: null,
  rotationTriggers: null,
  requestedAccessLevel: null,
  connection: null,
  clockSkewMs: 0,
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
    connection,
    clockSkewMs,
    ...outputs
  } = state;
  const out: StoredState = outputs;
  if (expiresAt !== null) out.expiresAt = expiresAt;
  if (expiresIn !== null) out.expiresIn = expiresIn;
  if (rotateBefore !== null) out.rotateBefore = rotateBefore;
  if (rotationTriggers !== null) out.rotationTriggers = rotationTriggers;
  if (requestedAccessLevel !== null) out.requestedAccessLevel = requestedAccessLevel;
  if (connection !== null) out.connection = connection;
  if (clockSkewMs !== 0) out.clockSkewMs = clockSkewMs;
  return out;
}

/**
 * Reads outputs written by any release of this package into the current shape. Release 1 is the
 * first; later releases add cases here instead of breaking old stacks.
 */
export function upgradeState(props: Record<string, unknown>): ApiKeyState {
  const version = typeof props.stateVersion === "number" ? props.stateVersion : 1;
  if (version > STATE_VERSION) {
    throw new Error(
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
    userSelector:
      props.userSelector === "id" || props.userSelector === "username" ? props.userSelector : "me",
    expiresAt: text(props.expiresAt),
    expiresIn: text(props.expiresIn),
    rotateBefore: text(props.rotateBefore),
    rotationTriggers: isStringMap(props.rotationTriggers) ? props.rotationTriggers : null,
    requestedAccessLevel:
      props.requestedAccessLevel === "FullAccess" || props.requestedAccessLevel === "ReadOnly"
        ? props.requestedAccessLevel
        : null,
    connection: isObject(props.connection) ? (props.connection as ConnectionSettings) : null,
    clockSkewMs: typeof props.clockSkewMs === "number" ? props.clockSkewMs : 0,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === "string");
}
