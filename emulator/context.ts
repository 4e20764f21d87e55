import type { EmulatorOptions } from "./options";
import type { Store, UserRecord } from "./store";

/** Who is calling, once authenticated. */
export interface Caller {
  user: UserRecord;
  /** Expiry of the API key the caller authenticated with; null for never-expiring keys and tokens. */
  keyExpires: Date | null;
}

/** What every route handler may use: the data, the options, the clock and link building. */
export interface ApiContext {
  readonly store: Store;
  readonly options: EmulatorOptions;
  readonly installationId: string;
  now(): Date;
  /** A server-root-relative link, base path included, as Octopus writes them. */
  link(path: string): string;
}
