import { UNKNOWN } from "../core/check";

/**
 * Property values as they cross the wire between the Pulumi engine and this plugin, which
 * accepts secrets (Configure answers `acceptSecrets`) but not resource references or output
 * values. The lifecycle behind the plugin works on plain JSON: secrets as plain strings and every
 * value not known yet (preview) as the one string {@link UNKNOWN}. This file converts both ways.
 */

type Props = Record<string, unknown>;

/** The signature key and value of the engine's special objects (pulumi/pulumi `resource/sig`). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * The markers the engine sends for a value not known yet. The dynamic provider host only ever
 * sees the string one; a plugin gets one per type (`MarshalPropertyValue` in the engine's
 * `resource/plugin/rpc.go`): a computed object such as `connection` may arrive as the object
 * marker, a computed bool as the bool marker. Inside a secret, the marker is the envelope's value.
 */
const UNKNOWNS = new Set([
  UNKNOWN, // string
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // bool
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

/** Deeper than any value of this resource: a bound on recursion over what the wire brings. */
const MAX_DEPTH = 16;

function isObject(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `value` is a secret envelope (`{ [SIG_KEY]: SECRET_SIG, value }`). */
export function isSecret(value: unknown): value is { value: unknown } {
  return isObject(value) && value[SIG_KEY] === SECRET_SIG;
}

/** `value` wrapped as a secret; null and undefined stay as they are (nothing to hide). */
export function secret(value: unknown): unknown {
  if (value === null || value === undefined || isSecret(value)) return value;
  return { [SIG_KEY]: SECRET_SIG, value };
}

/**
 * A plain copy of `value`: every secret envelope replaced by its value, every unknown marker by
 * {@link UNKNOWN}. Any other special object (asset, resource reference) is refused: this plugin
 * declares none, and the engine sends none to a plugin that does not accept them.
 */
export function plain(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new Error("a property value is nested too deeply");
  if (typeof value === "string") return UNKNOWNS.has(value) ? UNKNOWN : value;
  if (Array.isArray(value)) return value.map((item) => plain(item, depth + 1));
  if (!isObject(value)) return value;
  if (isSecret(value)) return plain(value.value, depth + 1);
  if (SIG_KEY in value)
    throw new Error("a property value is a special object this plugin never declares");
  const copy: Props = {};
  for (const [key, item] of Object.entries(value)) copy[key] = plain(item, depth + 1);
  return copy;
}

/** Whether `value` is or holds a secret envelope. */
export function holdsSecret(value: unknown, depth = 0): boolean {
  if (isSecret(value)) return true;
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return false;
  return Object.values(value).some((item) => holdsSecret(item, depth + 1));
}

/**
 * A property bag from the wire as the lifecycle takes it, and the names of the top-level
 * properties that held a secret (so that what goes back keeps them secret).
 */
export function fromWire(props: Props | undefined): { props: Props; secrets: Set<string> } {
  const secrets = new Set<string>();
  const copy: Props = {};
  for (const [key, value] of Object.entries(props ?? {})) {
    if (holdsSecret(value)) secrets.add(key);
    copy[key] = plain(value);
  }
  return { props: copy, secrets };
}

/**
 * A property bag for the wire: the named properties wrapped as secrets, `undefined` values
 * dropped (protobuf's Struct has no undefined, and an output is either a value or absent).
 */
export function toWire(props: Props, secrets: Iterable<string>): Props {
  const out: Props = {};
  for (const [key, value] of Object.entries(props)) if (value !== undefined) out[key] = value;
  for (const key of secrets) if (key in out) out[key] = secret(out[key]);
  return out;
}
