import { DEFAULT_PROFILE, PROFILES } from "../emulator/profiles";
import { faultMatrix } from "./support/fault-matrix";

// The fault matrix's create step (see ./support/fault-matrix) on every other server profile, at
// once, through the dynamic provider host: what a create makes is what differs between Octopus
// versions, and the doors share it (faults.test.ts runs the plugin's lane).
faultMatrix(
  PROFILES.filter((p) => p !== DEFAULT_PROFILE).map((profile) => ({ door: "dynamic", profile })),
  ["create"],
);
