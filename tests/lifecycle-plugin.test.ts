import { PROFILES } from "../emulator/profiles";
import { lifecycleSuite } from "./support/lifecycle-suite";

// The lifecycle (./support/lifecycle-suite) through the resource plugin's front door, launched
// as the engine launches it, on every Octopus version the emulator plays.

lifecycleSuite("plugin", PROFILES);
