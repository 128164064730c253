// One Gatehouse instance as a deployment runs it: its own process, configured
// only through GATEHOUSE_* variables, on the built package, with one guarded
// application route (GET /api/private) that never reads the store, so a
// refusal there comes from the in-memory revocation list alone.
//
// FIXTURE_SYNC_INTERVAL_MS sets how often the store is polled for revocations
// while the Redis feed is live; the two-instance tests set it to 10 s so that
// only the feed can explain a revocation arriving within 100 ms.
import { createGatehouse, loadConfig } from '../../dist/index.js';
import { createNodeServer, nodeGuard, sendJSON } from '../../dist/http/node.js';

const gatehouse = await createGatehouse({
  config: loadConfig({ env: process.env }),
  revocationSyncIntervalMs: Number(process.env.FIXTURE_SYNC_INTERVAL_MS ?? 250),
});
const requireUser = nodeGuard(gatehouse);
const server = createNodeServer(gatehouse, {
  async fallback(req, res) {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/api/private') return sendJSON(res, 404, { error: { code: 'NOT_FOUND', message: 'Not found.' } });
    const auth = await requireUser(req, res);
    if (auth === undefined) return;
    await sendJSON(res, 200, { auth });
  },
});
server.listen(0, '127.0.0.1', () => gatehouse.logger.info({ port: server.address().port }, 'gatehouse listening'));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  gatehouse.close().then(() => process.exit(0));
});
