import { resolve } from 'node:path';
import { createDemo } from './demo-app.js';

// `npm start` from the repository root: everything lives in ./.gatehouse.
const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
const demo = await createDemo({ dataDir, env: process.env });
const { port, host, publicOrigin } = demo.gatehouse.config;
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
