import { Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';
import { isAuthError } from '@gatehouse/client';
import { GatehouseAuth } from '@gatehouse/client/angular';

/** Only a path on this site: `returnTo` comes from the URL, so it must not send the user elsewhere. */
function safeReturnTo(value: string | null): string {
  return value !== null && value.startsWith('/') && !value.startsWith('//') ? value : '/account';
}

@Component({
  selector: 'app-login',
  template: `
    <form data-testid="login-form" (submit)="submit($event, username.value, password.value)">
      <input #username autocomplete="username" data-testid="login-username" />
      <input #password type="password" autocomplete="current-password" data-testid="login-password" />
      <button type="submit" data-testid="login-submit">Sign in</button>
      @if (error(); as code) {
        <p data-testid="login-error">{{ code }}</p>
      }
    </form>
  `,
})
export class Login {
  private readonly auth = inject(GatehouseAuth);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  readonly error = signal<string | null>(null);

  async submit(event: Event, username: string, password: string): Promise<void> {
    event.preventDefault();
    try {
      await this.auth.login({ username, password });
      await this.router.navigateByUrl(safeReturnTo(this.route.snapshot.queryParamMap.get('returnTo')));
    } catch (caught) {
      this.error.set(isAuthError(caught) ? caught.code : 'UNKNOWN');
    }
  }
}
