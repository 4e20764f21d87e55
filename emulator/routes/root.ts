import type { ApiContext } from "../context";
import { json, type Reply } from "../replies";

/** `GET /api`: Octopus' root document, answered without authentication. */
export function rootRoute(ctx: ApiContext): Reply {
  const version = ctx.options.version ?? "2025.4.5000";
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
