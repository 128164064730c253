// React adapter (<AuthProvider>, useAuth(), <RequireAuth>) in a production build, in Chromium.
import { describeAdapterApp } from './support/adapter-suite.js';

describeAdapterApp('react', { httpClientName: 'client.fetch' });
