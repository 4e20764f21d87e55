/** The emulator's public option and result types (re-exported by ./server). */

export interface EmulatorOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Emulates a server hosted under a path prefix, e.g. "/octopus"; default "". */
  basePath?: string;
  /** Extra filler users to seed: "user-00001"…; default 0. */
  users?: number;
  /** Delay added to every request before it is processed (simulated round trip); default 0. */
  latencyMs?: number;
  /** Injectable clock; default real time. */
  now?: () => Date;
  /** Expiry of a key created without `Expires`; default 180 days. */
  defaultExpiryDays?: number;
  /** Expiry of a key created with `Expires: null`, and the latest allowed; default 366 days. */
  maxExpiryDays?: number;
  /** Pre-2025.4 semantics: omitted/null `Expires` means the key never expires. */
  legacyNoExpiry?: boolean;
  /** Server version shown at /api; default "2025.4.5000". */
  version?: string;
  /** PRNG seed for ids, secrets and random faults (deterministic tests). */
  seed?: number;
}

export interface SeededUser {
  id: string;
  username: string;
  /** A valid key secret of that user ("" when none was made, e.g. for added service accounts). */
  apiKey: string;
  isService: boolean;
  isAdmin: boolean;
}

export interface LiveKey {
  Id: string;
  UserId: string;
  Purpose: string;
  Created: string;
  Expires: string | null;
}

export interface EmulatorStats {
  requests: number;
  /** Keyed like "GET /api/users/{id}/apikeys"; unmatched requests as "GET (other)". */
  byRoute: Record<string, number>;
  /** Response body bytes actually written. */
  bytesOut: number;
  /** Request body bytes received. */
  bytesIn: number;
}
