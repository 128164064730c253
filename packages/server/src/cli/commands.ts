import { clientAdd, clientList, clientRemove } from './client-commands.js';
import type { Command } from './command.js';
import { keysDelete, keysGenerate, keysList, keysRotate } from './key-commands.js';
import { partnerAdd, partnerList, partnerRevoke, partnerRotate } from './partner-commands.js';
import { serve } from './serve.js';
import { sessionList, sessionRevoke } from './session-commands.js';
import { sign } from './sign-command.js';
import { migrate, secretGenerate } from './setup-commands.js';
import { userAdd, userDisable, userSetPassword } from './user-commands.js';
import { userRoles } from './user-roles.js';

/** Every `gatehouse` command, in the order `--help` lists them. A new command is one line here. */
export const COMMANDS: readonly Command[] = [
  serve,
  migrate,
  secretGenerate,
  userAdd,
  userDisable,
  userSetPassword,
  userRoles,
  sessionList,
  sessionRevoke,
  keysList,
  keysRotate,
  keysGenerate,
  keysDelete,
  partnerAdd,
  partnerList,
  partnerRotate,
  partnerRevoke,
  sign,
  clientAdd,
  clientList,
  clientRemove,
];
