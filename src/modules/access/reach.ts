import { can, type Principal } from '../auth/principal.js';

/**
 * Whose keys and logs a caller reaches inside the current organization. Pure: it reads the principal only.
 *
 * - own: the caller's personal keys (user_id = caller, not team-owned) and the requests they made;
 * - teams: the teams whose keys (personal keys billed to the team and service keys) or logs the caller reaches;
 * - all: the whole organization.
 */
export interface Reach {
  own: boolean;
  teams: string[];
  all: boolean;
}

export type ReachScope = 'own' | 'team' | 'all';

function userTeams(principal: Principal): Array<[string, 'admin' | 'member']> {
  return principal.kind === 'user' ? [...principal.teams] : [];
}

/** Keys the caller may read: keys.own, keys.team (or being a team's admin), keys.read / keys.all. */
export function keyReadReach(principal: Principal): Reach {
  return {
    own: principal.kind === 'user' && (can(principal, 'keys.own') || can(principal, 'keys.all')),
    teams: keyTeams(principal),
    all: can(principal, 'keys.read') || can(principal, 'keys.all'),
  };
}

/** Keys the caller may change, revoke and rotate: its own (keys.own), its teams' (keys.team / team admin), all (keys.all). */
export function keyManageReach(principal: Principal): Reach {
  return {
    own: principal.kind === 'user' && (can(principal, 'keys.own') || can(principal, 'keys.all')),
    teams: keyTeams(principal),
    all: can(principal, 'keys.all'),
  };
}

/** Teams whose keys the caller manages: every team of theirs with keys.team, and those they are an admin of. */
function keyTeams(principal: Principal): string[] {
  const withPermission = can(principal, 'keys.team');
  return userTeams(principal)
    .filter(([, role]) => withPermission || role === 'admin')
    .map(([id]) => id);
}

/**
 * Request logs the caller reaches: logs.own (its requests), logs.team (its teams'), logs.all (the organization);
 * the widest held applies unless `scope` narrows it.
 */
export function logReach(principal: Principal, scope?: ReachScope): Reach {
  const all = can(principal, 'logs.all') && (scope === undefined || scope === 'all');
  const teams =
    can(principal, 'logs.team') && scope !== 'own' ? userTeams(principal).map(([id]) => id) : ([] as string[]);
  const own = principal.kind === 'user' && (can(principal, 'logs.own') || can(principal, 'logs.team') || all);
  return { own, teams, all };
}

/** Whether a row owned by `userId`, billed to `teamId` (team-owned or not) is within the reach. */
export function reaches(
  reach: Reach,
  principal: Principal,
  row: { userId: string | null; teamId: string | null; teamOwned?: boolean },
): boolean {
  if (reach.all) return true;
  if (reach.own && principal.kind === 'user' && row.userId === principal.userId && row.teamOwned !== true) return true;
  return row.teamId !== null && reach.teams.includes(row.teamId);
}
