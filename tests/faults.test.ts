import { DEFAULT_PROFILE } from "../emulator/profiles";
import { faultMatrix } from "./support/fault-matrix";

// The whole fault matrix (see ./support/fault-matrix) on the default server profile, through
// both front doors at once: the dynamic provider host and the resource plugin, each against an
// emulator of its own. The other profiles run its create step in faults-profiles.test.ts.
faultMatrix([
  { door: "dynamic", profile: DEFAULT_PROFILE },
  { door: "plugin", profile: DEFAULT_PROFILE },
]);
