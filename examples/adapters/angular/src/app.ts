import { Component, inject } from '@angular/core';
import { ActivatedRoute, RouterLink, RouterOutlet } from '@angular/router';
import { GatehouseAuth } from '@gatehouse/client/angular';

@Component({
  selector: 'app-root',
  imports: [RouterLink, RouterOutlet],
  template: `
    <nav><a routerLink="/">Home</a> <a routerLink="/account">Account</a> <a routerLink="/admin">Admin</a></nav>
    <p data-testid="status">
      @switch (auth.state()) {
        @case (undefined) { loading }
        @case (null) { unauthenticated }
        @default { Signed in as {{ auth.user()?.username }} }
      }
    </p>
    <router-outlet />
  `,
})
export class App {
  readonly auth = inject(GatehouseAuth);
}

/** A page that is only a heading, named by its route's `data`. */
@Component({
  selector: 'app-heading',
  template: `<h1 [attr.data-testid]="data['testId']">{{ data['text'] }}</h1>`,
})
export class Heading {
  readonly data = inject(ActivatedRoute).snapshot.data;
}
