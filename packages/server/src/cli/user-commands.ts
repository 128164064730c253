import { CONFIG_OPTIONS, type Command } from './command.js';
import { exactlyOne, print, readPassword, withGatehouse } from './admin-support.js';

/** `gatehouse user add <username>`: creates a user; the password comes from standard input. */
export const userAdd: Command = {
  name: 'user add',
  usage: ['user add <username> [--role R]... --password-stdin'],
  summary: 'Create a user (the password is read from standard input)',
  options: ['role', 'password-stdin', 'json', ...CONFIG_OPTIONS],
  example: "printf '%s\\n' 'correct horse battery staple' | gatehouse user add alice --role admin --role user --password-stdin",
  async run(operands, values, io) {
    const username = exactlyOne(operands, 'username');
    const password = await readPassword(values, io);
    const user = await withGatehouse(values, io, (g) => g.auth.createUser({ username, password, roles: values.role ?? [] }));
    const roles = user.roles.length > 0 ? ` with roles ${user.roles.join(', ')}` : '';
    print(io, values, { id: user.id, username: user.username, roles: user.roles }, `Created user ${user.username} (${user.id})${roles}.`);
    return 0;
  },
};

/** `gatehouse user disable <username>`: no more sign-ins, every session ended. */
export const userDisable: Command = {
  name: 'user disable',
  usage: ['user disable <username>'],
  summary: 'Disable a user and end all their sessions',
  options: ['json', ...CONFIG_OPTIONS],
  example: 'gatehouse user disable alice',
  async run(operands, values, io) {
    const username = exactlyOne(operands, 'username');
    const ids = await withGatehouse(values, io, (g) => g.auth.disableUser(username));
    print(io, values, { disabled: true, sessionsRevoked: ids.length }, `Disabled ${username}; ended ${ids.length} session(s).`);
    return 0;
  },
};

/** `gatehouse user set-password <username>`: a new password, every session ended. */
export const userSetPassword: Command = {
  name: 'user set-password',
  usage: ['user set-password <username> --password-stdin'],
  summary: "Replace a user's password and end all their sessions",
  options: ['password-stdin', 'json', ...CONFIG_OPTIONS],
  example: "printf '%s' 'a completely different passphrase' | gatehouse user set-password alice --password-stdin",
  async run(operands, values, io) {
    const username = exactlyOne(operands, 'username');
    const password = await readPassword(values, io);
    const ids = await withGatehouse(values, io, (g) => g.auth.setPassword(username, password));
    print(io, values, { sessionsRevoked: ids.length }, `Password changed for ${username}; ended ${ids.length} session(s).`);
    return 0;
  },
};
