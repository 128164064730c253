import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { isAuthError } from '@gatehouse/client';
import { useAuth } from '@gatehouse/client/react';

/** Only a path on this site: `returnTo` comes from the URL, so it must not send the user elsewhere. */
function safeReturnTo(value: string | null): string {
  return value !== null && value.startsWith('/') && !value.startsWith('//') ? value : '/account';
}

export function Login() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      await login({ username: String(form.get('username')), password: String(form.get('password')) });
      navigate(safeReturnTo(params.get('returnTo')), { replace: true });
    } catch (caught) {
      setError(isAuthError(caught) ? caught.code : 'UNKNOWN');
    }
  }

  return (
    <form data-testid="login-form" onSubmit={onSubmit}>
      <input name="username" autoComplete="username" data-testid="login-username" />
      <input name="password" type="password" autoComplete="current-password" data-testid="login-password" />
      <button type="submit" data-testid="login-submit">Sign in</button>
      {error !== null && <p data-testid="login-error">{error}</p>}
    </form>
  );
}
