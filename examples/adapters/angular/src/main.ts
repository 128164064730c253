import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { provideZonelessChangeDetection } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';
import { provideRouter, type Routes } from '@angular/router';
import { createAuthClient } from '@gatehouse/client';
import { authGuard, gatehouseInterceptor, provideGatehouse, roleGuard } from '@gatehouse/client/angular';
import { Account } from './account.js';
import { App, Heading } from './app.js';
import { Login } from './login.js';

const routes: Routes = [
  { path: '', component: Heading, data: { testId: 'home', text: 'Home' } },
  { path: 'login', component: Login },
  { path: 'account', component: Account, canActivate: [authGuard()] },
  { path: 'admin', component: Heading, data: { testId: 'admin', text: 'Admin' }, canActivate: [roleGuard('admin', { forbiddenRedirectTo: '/forbidden' })] },
  { path: 'forbidden', component: Heading, data: { testId: 'forbidden', text: 'You may not open that page.' } },
];

bootstrapApplication(App, {
  providers: [
    provideZonelessChangeDetection(),
    provideGatehouse(createAuthClient()),
    // Angular's own XSRF support stays on, unconfigured: it copies the XSRF-TOKEN cookie into X-XSRF-TOKEN.
    provideHttpClient(withInterceptors([gatehouseInterceptor])),
    provideRouter(routes),
  ],
}).catch((error: unknown) => console.error(error));
