// Angular adapter (provideGatehouse, GatehouseAuth signals, gatehouseInterceptor, authGuard/roleGuard)
// in an ahead-of-time production build, in Chromium. The app's API calls go through HttpClient, so
// the CSRF test proves Angular's own XSRF support (XSRF-TOKEN cookie -> X-XSRF-TOKEN header) still works.
import { describeAdapterApp } from './support/adapter-suite.js';

describeAdapterApp('angular', { httpClientName: 'HttpClient' });
