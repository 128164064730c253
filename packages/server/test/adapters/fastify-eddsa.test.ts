import { describeAdapter } from './adapter-suite.js';

// The adapters do not care how tokens are signed; this proves it for one of them with an asymmetric key.
describeAdapter('fastify', { signingAlgorithm: 'EdDSA' });
