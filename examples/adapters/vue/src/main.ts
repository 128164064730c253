import { createApp, defineComponent, h } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import { createAuthClient } from '@gatehouse/client';
import { authGuard, createGatehouse } from '@gatehouse/client/vue';
import AccountView from './AccountView.vue';
import App from './App.vue';
import LoginView from './LoginView.vue';

/** A page that is only a heading (a plain function would be taken for a lazy-loaded route). */
const heading = (testId: string, text: string) => defineComponent({ render: () => h('h1', { 'data-testid': testId }, text) });

/** One client for the app. */
const auth = createAuthClient();

const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', component: heading('home', 'Home') },
    { path: '/login', component: LoginView },
    { path: '/account', component: AccountView, beforeEnter: authGuard(auth) },
    {
      path: '/admin',
      component: heading('admin', 'Admin'),
      beforeEnter: authGuard(auth, { role: 'admin', forbiddenRedirectTo: '/forbidden' }),
    },
    { path: '/forbidden', component: heading('forbidden', 'You may not open that page.') },
  ],
});

createApp(App).use(createGatehouse(auth)).use(router).mount('#app');
