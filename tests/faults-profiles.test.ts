import { DEFAULT_PROFILE, PROFILES } from "../emulator/profiles";
import { faultMatrix } from "./support/fault-matrix";

// The fault matrix's create step (see ./support/fault-matrix) on every other server profile:
// what a create makes is what differs between Octopus versions.
describe.each(PROFILES.filter((p) => p !== DEFAULT_PROFILE))("on Octopus %s", (profile) => {
  faultMatrix(profile, ["create"]);
});
