import { resolve } from 'node:path';
import { createDemo } from './demo-app.js';

// `npm start` from the repository root: everything lives in ./.gatehouse.
const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
const demo = await createDemo({ dataDir, env: process.env });
const { port, host, publicOrigin } = demo.gatehouse.config;
// publicOrigin does not follow GATEHOUSE_PORT: with only the port changed, the
// page is served on the new port but every sign-in fails the Origin check.
const origin = new URL(publicOrigin);
const originPort = Number(origin.port || (origin.protocol === 'https:' ? 443 : 80));
if (['localhost', '127.0.0.1', '[::1]'].includes(origin.hostname) && originPort !== port) {
  process.stderr.write(
    `\n  Warning: listening on port ${port}, but publicOrigin is ${publicOrigin}.\n` +
      `  Sign-in from http://localhost:${port} will be refused (ORIGIN_REJECTED); ` +
      `set GATEHOUSE_PUBLIC_ORIGIN=http://localhost:${port} too.\n`,
  );
}
demo.server.listen(port, host, () => {
  process.stdout.write(
    `\n  Gatehouse demo: ${publicOrigin}\n` +
      `  Sign in as   ${demo.credentials.username} / ${demo.credentials.password}\n` +
      `  Data:        ${dataDir}\n\n`,
  );
});
const stop = async () => {
  await demo.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
