import { PACKAGE } from "./schema";

/**
 * The lifecycle's messages name the dynamic resource's stack config (`octopusdeploy:address`,
 * "stack config `octopusdeploy:apiKey`"); behind the plugin the same settings are the provider's
 * configuration, `octopusapikey:address`. This rewrites those names in every message the plugin
 * passes on (check failures and errors), so that a message names the setting the user can set.
 *
 * TEMPORARY: once the core names each origin through its connection sources (the `names` of
 * `ConnectionSource`), the plugin passes its names in and this goes.
 */
const DYNAMIC_SETTING = /(?:stack config )?`?octopusdeploy:(address|apiKey|accessToken)`?/g;

export function pluginWording(text: string): string {
  return text.replace(DYNAMIC_SETTING, `${PACKAGE}:$1`);
}

/**
 * A message about the provider's own settings: `connection.allowInsecureHttp` (the resource
 * input) becomes `octopusapikey:allowInsecureHttp`, the setting that holds the same value.
 */
export function settingsWording(text: string): string {
  return pluginWording(text).replace(/\bconnection\.(\w+)/g, `${PACKAGE}:$1`);
}
