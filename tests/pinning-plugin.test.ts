import { pinningSuite } from "./support/pinning-suite";

// Pinning (./support/pinning-suite) through the resource plugin's front door.

pinningSuite("plugin");
