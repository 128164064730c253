import type { RoleChange } from '../core/roles.js';
import { exactlyOne, print, withGatehouse } from './admin-support.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import type { CLIValues } from './command-line.js';
import { CLIUsageError } from './io.js';

/** `none` for an empty list, else the roles comma-separated. */
function listed(roles: readonly string[]): string {
  return roles.length === 0 ? 'none' : roles.join(', ');
}

/**
 * The change the options ask for, or null to only show the roles. `--set`
 * replaces every role (`--set ''` leaves none) and cannot be combined with
 * `--add` or `--remove`.
 */
function requestedChange(values: CLIValues): RoleChange | null {
  const { add, remove, set } = values;
  if (set !== undefined) {
    if (add !== undefined || remove !== undefined) throw new CLIUsageError('give either --set, or --add and --remove, not both');
    return { set: set.filter((role) => role !== '') };
  }
  if (add === undefined && remove === undefined) return null;
  return { add: add ?? [], remove: remove ?? [] };
}

/**
 * `gatehouse user roles <username> [--add R]... [--remove R]... [--set R]...`:
 * shows a user's roles, or changes them. A change reaches every running
 * instance on its next request (through Redis when configured, else at its
 * next store read): access tokens with the old roles are refused with
 * `TOKEN_EXPIRED`, so clients refresh and get the new ones. Sessions stay.
 */
export const userRoles: Command = {
  name: 'user roles',
  usage: ['user roles <username> [--add R]... [--remove R]... [--set R]...'],
  summary: "Show or change a user's roles (tokens with the old roles are refused from their next request)",
  options: ['add', 'remove', 'set', 'json', ...CONFIG_OPTIONS],
  example: 'gatehouse user roles alice --remove admin',
  async run(operands, values, io) {
    const username = exactlyOne(operands, 'username');
    const change = requestedChange(values);
    if (change === null) {
      const user = await withGatehouse(values, io, (g) => g.auth.findUser(username));
      print(io, values, { username: user.username, roles: user.roles }, `Roles of ${user.username}: ${listed(user.roles)}.`);
      return 0;
    }
    const { user, previousRoles, changed } = await withGatehouse(values, io, (g) => g.auth.changeRoles(username, change));
    const text = changed
      ? `Roles of ${user.username}: ${listed(user.roles)} (were: ${listed(previousRoles)}). Access tokens with the old roles are refused from their next request.`
      : `Roles of ${user.username}: ${listed(user.roles)}; nothing changed.`;
    print(io, values, { username: user.username, roles: user.roles, previousRoles, changed }, text);
    return 0;
  },
};
