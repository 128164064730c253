import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { createAuthClient } from '@gatehouse/client';
import { AuthProvider, RequireAuth, useAuth } from '@gatehouse/client/react';
import { Account } from './account.js';
import { Login } from './login.js';

/** One client for the app, created once, outside render. */
const auth = createAuthClient();

/** Sends a signed-out visitor to the sign-in page, remembering where they were going. */
function ToLogin() {
  const location = useLocation();
  return <Navigate to={`/login?returnTo=${encodeURIComponent(location.pathname)}`} replace />;
}

function Status() {
  const { status, user } = useAuth();
  return <p data-testid="status">{status === 'authenticated' ? `Signed in as ${user?.username}` : status}</p>;
}

function App() {
  return (
    <>
      <nav>
        <Link to="/">Home</Link> <Link to="/account">Account</Link> <Link to="/admin">Admin</Link>
      </nav>
      <Status />
      <Routes>
        <Route path="/" element={<h1 data-testid="home">Home</h1>} />
        <Route path="/login" element={<Login />} />
        <Route
          path="/account"
          element={
            <RequireAuth fallback={<ToLogin />} loading={<p data-testid="loading">Loading…</p>}>
              <Account />
            </RequireAuth>
          }
        />
        <Route
          path="/admin"
          element={
            <RequireAuth role="admin" fallback={<ToLogin />} forbidden={<Navigate to="/forbidden" replace />}>
              <h1 data-testid="admin">Admin</h1>
            </RequireAuth>
          }
        />
        <Route path="/forbidden" element={<h1 data-testid="forbidden">You may not open that page.</h1>} />
      </Routes>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AuthProvider client={auth}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </AuthProvider>
  </StrictMode>,
);
