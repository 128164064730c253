import { resolve } from 'node:path';
import { listen, ListenError, unmatchedLocalOrigin } from '@gatehouse/server/node';
import { createDemo, UPSTREAM_PREFIX } from './demo-app.js';

// `npm start` from the repository root: everything lives in ./.gatehouse.
const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
const demo = await createDemo({ dataDir, env: process.env });
const { host, publicOrigin } = demo.gatehouse.config;

let port: number;
try {
  port = await listen(demo.server, demo.gatehouse.config.port, host);
} catch (error) {
  await demo.close();
  if (!(error instanceof ListenError)) throw error;
  const other = error.code === 'EADDRNOTAVAIL' ? '' : ` Pick another port, e.g. GATEHOUSE_PORT=8081 GATEHOUSE_PUBLIC_ORIGIN=http://localhost:8081 npm start`;
  process.stderr.write(`\n  Cannot start the Gatehouse demo: ${error.message}.${other}\n\n`);
  process.exit(1);
}

// publicOrigin does not follow GATEHOUSE_PORT: with only the port changed, the
// page is served on the new port but every sign-in fails the Origin check.
const served = unmatchedLocalOrigin(publicOrigin, port);
if (served !== null) {
  process.stderr.write(
    `\n  Warning: listening on port ${port}, but publicOrigin is ${publicOrigin}.\n` +
      `  Sign-in from ${served} will be refused (ORIGIN_REJECTED); set GATEHOUSE_PUBLIC_ORIGIN=${served} too.\n`,
  );
}
// Handlers first: whoever reads the banner may signal at once.
const stop = async () => {
  await demo.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

process.stdout.write(
  `\n  Gatehouse demo    ${publicOrigin}\n` +
    `  Listening on      ${host}:${port}\n` +
    `  Sign in as        ${demo.credentials.username} / ${demo.credentials.password}\n` +
    `  or with Demo IdP  ${demo.idp.credentials.username} / ${demo.idp.credentials.password}   (on the IdP's own page, ${demo.idp.issuer})\n` +
    `  Upstream API      ${publicOrigin}${UPSTREAM_PREFIX}/ -> ${demo.upstream.url}   (through the gateway, signed in)\n` +
    `  Data:             ${dataDir}\n\n`,
);
