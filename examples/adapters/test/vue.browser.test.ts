// Vue adapter (plugin, useAuth() composable, router guard) in a production build, in Chromium.
import { describeAdapterApp } from './support/adapter-suite.js';

describeAdapterApp('vue', { httpClientName: 'client.fetch' });
