import { GatehouseError } from './errors.js';

/** Longest role name: roles travel in every access token, which must stay under the cookie size limit. */
export const ROLE_MAX_LENGTH = 64;
/** Most roles one user may hold, for the same reason (32 roles of 64 characters still fit, even signed with RS256). */
export const MAX_ROLES = 32;

/** Starts with a letter or digit; `.`, `_`, `:`, `-` allowed after it. ASCII only, case kept. */
const ROLE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/**
 * Refuses role names a guard could never match reliably or that would not fit
 * in a token: empty, longer than {@link ROLE_MAX_LENGTH}, or outside
 * `^[A-Za-z0-9][A-Za-z0-9._:-]*$` (no spaces, no commas, no look-alikes).
 * Roles are compared exactly, so `Admin` and `admin` are two roles.
 *
 * @throws GatehouseError `ROLE_INVALID` naming the first bad role
 * @example
 * ```ts
 * checkRoleNames(['admin', 'billing:read']); // fine
 * checkRoleNames(['ad min']);                // throws ROLE_INVALID
 * ```
 */
export function checkRoleNames(roles: readonly string[]): void {
  for (const role of roles) {
    if (typeof role !== 'string' || role.length > ROLE_MAX_LENGTH || !ROLE_PATTERN.test(role)) {
      throw new GatehouseError('ROLE_INVALID', {
        message: `The role ${JSON.stringify(String(role).slice(0, ROLE_MAX_LENGTH + 1))} is not acceptable: use 1-${ROLE_MAX_LENGTH} of A-Z a-z 0-9 . _ : - starting with a letter or digit.`,
      });
    }
  }
}

/**
 * @throws GatehouseError `ROLE_INVALID` when a user would hold more than {@link MAX_ROLES} roles
 */
export function checkRoleCount(roles: readonly string[]): void {
  if (roles.length > MAX_ROLES) {
    throw new GatehouseError('ROLE_INVALID', { message: `A user may hold at most ${MAX_ROLES} roles.` });
  }
}

/**
 * How to change a user's roles: `set` replaces them all; `add` and `remove`
 * edit them (removals first, then additions appended in the given order).
 */
export type RoleChange =
  | { readonly set: readonly string[] }
  | { readonly add?: readonly string[]; readonly remove?: readonly string[] };

/**
 * Refuses a change that names a bad role, or adds and removes the same one.
 *
 * @throws GatehouseError `ROLE_INVALID`
 */
export function checkRoleChange(change: RoleChange): void {
  if ('set' in change) {
    checkRoleNames(change.set);
    return;
  }
  const add = change.add ?? [];
  const remove = change.remove ?? [];
  checkRoleNames([...add, ...remove]);
  const both = add.find((role) => remove.includes(role));
  if (both !== undefined) throw new GatehouseError('ROLE_INVALID', { message: `The role ${JSON.stringify(both)} cannot be both added and removed.` });
}

/** The roles after `change`, each once, in a stable order (pure). */
export function applyRoleChange(roles: readonly string[], change: RoleChange): string[] {
  if ('set' in change) return [...new Set(change.set)];
  const removed = new Set(change.remove ?? []);
  return [...new Set([...roles.filter((role) => !removed.has(role)), ...(change.add ?? [])])];
}
