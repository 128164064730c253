import { describeAdapter } from './adapter-suite.js';

describeAdapter('hono-web');
