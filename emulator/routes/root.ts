import type { ApiContext } from "../context";
import { json, type Reply } from "../replies";

/** `GET /api`: Octopus' root document, answered without authentication. */
export function rootRoute(ctx: ApiContext): Reply {
  const version = ctx.options.version ?? ctx.rules.version;
  const links: Record<string, string> = {
    Self: "/api",
    Authentication: "/api/authentication",
    CurrentUser: "/api/users/me",
    PermissionDescriptions: "/api/permissions/all",
    Register: "/api/users/register",
    RevokeUserSessions: "/api/users/{id}/revoke-sessions",
    ServerStatus: "/api/serverstatus",
    SignIn: "/api/users/login{?returnUrl}",
    SignOut: "/api/users/logout",
    SpaceHome: "/api/{spaceId}",
    Spaces: "/api/spaces{/id}{?skip,ids,take,partialName}",
    Teams: "/api/teams{/id}{?skip,take,ids,partialName,spaces,includeSystem}",
    UserAuthentication: "/api/users/authentication{/userId}",
    UserIdentityMetadata: "/api/users/identity-metadata",
    UserRoles: "/api/userroles{/id}{?skip,take,ids,partialName}",
    Users: "/api/users{/id}{?skip,take,ids,filter}",
    Web: "/app",
  };
  return json(200, {
    Application: "Octopus Deploy",
    Version: version,
    ApiVersion: "3.0.0",
    InstallationId: ctx.installationId,
    IsEarlyAccessProgram: false,
    HasLongTermSupport: false,
    Links: Object.fromEntries(Object.entries(links).map(([k, v]) => [k, ctx.link(v)])),
  });
}

/**
 * `GET /api/authentication`, answered without authentication: the settings a client may check
 * before creating a key (REST reference `AuthenticationResource`). The expiry settings exist
 * from 2025.4; `UserApiKeysEnabled` from 2023.2.
 */
export function authenticationRoute(ctx: ApiContext): Reply {
  const resource: Record<string, unknown> = {
    AnyAuthenticationProvidersSupportPasswordManagement: true,
    AuthenticationProviders: [],
    AutoLoginEnabled: false,
    RememberMeEnabled: false,
    UserApiKeysEnabled: ctx.settings.userApiKeysEnabled,
    Links: { Self: ctx.link("/api/authentication") },
  };
  if (ctx.rules.expirySettings) {
    resource.ApiKeyDefaultExpiryDays = ctx.rules.defaultExpiryDays;
    resource.ApiKeyMaxExpiryDays = ctx.rules.maxExpiryDays;
  }
  return json(200, resource);
}
