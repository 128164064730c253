// Gatehouse demo UI. Server data reaches the DOM only through textContent and
// createElement: the CSP forbids inline script, and nothing from the server is
// ever parsed as HTML. index.html holds the static markup; this file fills it.
// The session itself (who is signed in, refresh, other tabs) is the SDK's job:
// this file reacts to its events and renders.
import { api, auth, AuthError } from './auth.js';
import { addDetail, byId, el, onSubmit } from './dom.js';
import { describeUserAgent, pluralSeconds, timeElement } from './format.js';
import { createCountdown } from './countdown.js';

// Every element the app touches, looked up once (ids are defined in index.html).
const ui = Object.fromEntries(
  [
    'main', 'status', 'account', 'whoami', 'roles', 'logout',
    'view-loading', 'view-signed-out', 'view-signed-in',
    'login-form', 'login-username', 'login-password', 'login-error', 'login-submit',
    'providers', 'provider-buttons',
    'dashboard-title', 'profile-message', 'profile-greeting', 'profile-details',
    'note-form', 'note-input', 'notes-message', 'notes-list',
    'upstream-title', 'upstream-call', 'upstream-message', 'upstream-identity',
    'sessions-title', 'sessions-reload', 'sessions-message', 'sessions-list',
    'revoke-all-form', 'revoke-all-password', 'revoke-all-error', 'revoke-all-unavailable', 'revoke-all-provider',
  ].map((id) => [id.replace(/-(\w)/g, (_, letter) => letter.toUpperCase()), byId(id)]),
);

let user = null; // the signed-in user, or null
// True when this session began at an OpenID provider (the profile says so): signing out then ends the provider's session too.
let signedInAtProvider = false;
let view = 'loading';
let notes = [];
let sessions = [];
// Bumped on every view change. Async work captures it and drops its result if
// the view changed meanwhile, so a slow response can't paint a signed-out page.
let viewEpoch = 0;

function setStatus(message, kind = 'info') {
  ui.status.textContent = message;
  ui.status.dataset.kind = kind;
}

/**
 * Every user action starts here: the message about the previous one ("Note
 * added.", an error) would otherwise sit next to the new one's progress and
 * read as its outcome.
 */
function beginAction() {
  setStatus('');
  ui.revokeAllError.textContent = '';
}

function errorMessage(error) {
  if (error instanceof AuthError) return error.message;
  console.error(error); // a bug in this page, not a server answer
  return 'Something went wrong. Please try again.';
}

/** A 401 that signed us out: the signed-out view has already said why. */
function sessionEnded(error) {
  return error instanceof AuthError && error.status === 401 && auth.state === null;
}

/** Show an error unless the session just ended. */
function report(error) {
  if (!sessionEnded(error)) setStatus(errorMessage(error), 'error');
}

function showView(name) {
  viewEpoch += 1;
  view = name;
  ui.viewLoading.hidden = name !== 'loading';
  ui.viewSignedOut.hidden = name !== 'signed-out';
  ui.viewSignedIn.hidden = name !== 'signed-in';
  ui.account.hidden = name !== 'signed-in';
  ui.main.setAttribute('aria-busy', String(name === 'loading'));
  return viewEpoch;
}

function showSignedOut(message = '', kind = 'info') {
  user = null;
  signedInAtProvider = false;
  showRevokeAll(null);
  notes = [];
  sessions = [];
  // Wipe the previous user's data so the next person at this device can't read it.
  for (const node of [ui.whoami, ui.roles, ui.profileGreeting, ui.profileDetails, ui.notesList, ui.sessionsList, ui.upstreamIdentity]) {
    node.replaceChildren();
  }
  ui.upstreamMessage.textContent = '';
  ui.noteForm.reset();
  ui.revokeAllForm.reset();
  ui.revokeAllError.textContent = '';
  ui.loginPassword.value = ''; // the username stays: handy after a session expires
  ui.loginError.textContent = '';
  showView('signed-out');
  setStatus(message, kind);
  (ui.loginUsername.value ? ui.loginPassword : ui.loginUsername).focus();
}

function showSignedIn(signedInUser) {
  user = signedInUser;
  ui.whoami.textContent = user.username;
  const roles = Array.isArray(user.roles) ? user.roles : [];
  ui.roles.replaceChildren(...roles.map((role) => el('span', 'badge', String(role))));
  const epoch = showView('signed-in');
  ui.dashboardTitle.focus(); // the login form just vanished; start keyboard users at the top
  loadInto(epoch, ui.profileMessage, () => api('GET', '/api/profile'), renderProfile);
  loadInto(epoch, ui.notesMessage, () => api('GET', '/api/notes'), (data) => {
    const loaded = Array.isArray(data?.notes) ? data.notes : [];
    // A note added while the list was loading may be missing from this answer; keep it.
    const ids = new Set(loaded.map((note) => note.id));
    notes = [...loaded, ...notes.filter((note) => !ids.has(note.id))];
    renderNotes();
  });
  loadSessions();
}

/**
 * Fetch data for one card, showing loading and error text in that card's message line.
 * `isStale` lets a card drop an answer that newer data has overtaken.
 */
async function loadInto(epoch, messageElement, fetcher, render, isStale = () => false) {
  messageElement.textContent = 'Loading…';
  messageElement.dataset.kind = 'info';
  try {
    const data = await fetcher();
    if (epoch !== viewEpoch || isStale()) return;
    messageElement.textContent = '';
    render(data);
  } catch (error) {
    if (epoch !== viewEpoch || isStale() || sessionEnded(error)) return;
    messageElement.textContent = errorMessage(error);
    messageElement.dataset.kind = 'error';
  }
}

function renderProfile({ user: profileUser, greeting, accessTokenExpiresAt, signedInWith } = {}) {
  ui.profileGreeting.textContent = greeting ?? '';
  ui.profileDetails.replaceChildren();
  if (!profileUser) return;
  signedInAtProvider = Boolean(signedInWith);
  showRevokeAll(signedInWith ? String(signedInWith.displayName) : null);
  addDetail(ui.profileDetails, 'Username', String(profileUser.username));
  addDetail(ui.profileDetails, 'User id', String(profileUser.id));
  addDetail(ui.profileDetails, 'Signed in with', signedInWith ? String(signedInWith.displayName) : 'password');
  // The server sends an ISO instant; the viewer's locale and time zone decide how it reads.
  if (accessTokenExpiresAt) addDetail(ui.profileDetails, 'Access token expires', timeElement(accessTokenExpiresAt));
}

/** A JWT NumericDate (seconds) as a <time> with seconds: the forwarded identity lives about a minute. */
function numericDate(seconds) {
  return timeElement(typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : undefined, { seconds: true });
}

/** What the upstream says it received: the verified claims, never the token. */
function renderUpstream({ identity, path, receivedCookies } = {}) {
  ui.upstreamIdentity.replaceChildren();
  if (!identity) return;
  const roles = Array.isArray(identity.roles) && identity.roles.length > 0 ? identity.roles.map(String).join(', ') : 'none';
  addDetail(ui.upstreamIdentity, 'Subject (sub)', String(identity.sub));
  addDetail(ui.upstreamIdentity, 'Username', String(identity.username ?? ''));
  addDetail(ui.upstreamIdentity, 'Roles', roles);
  addDetail(ui.upstreamIdentity, 'Audience (aud)', Array.isArray(identity.aud) ? identity.aud.join(', ') : String(identity.aud));
  addDetail(ui.upstreamIdentity, 'Issuer (iss)', String(identity.iss));
  addDetail(ui.upstreamIdentity, 'Issued (iat)', numericDate(identity.iat));
  addDetail(ui.upstreamIdentity, 'Expires (exp)', numericDate(identity.exp));
  addDetail(ui.upstreamIdentity, 'Path it was asked for', String(path));
  addDetail(ui.upstreamIdentity, 'Your cookies', receivedCookies ? 'received (unexpected)' : 'not received');
}

/** "Sign out everywhere" needs the password; someone who signed in with a provider has none here. */
function showRevokeAll(providerName) {
  ui.revokeAllForm.hidden = providerName !== null;
  ui.revokeAllUnavailable.hidden = providerName === null;
  ui.revokeAllProvider.textContent = providerName ?? '';
}

function renderNotes() {
  // Newest first, whatever order the server used.
  const sorted = [...notes].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  ui.notesList.replaceChildren(
    ...sorted.map((note) => {
      const item = el('li', 'note');
      item.dataset.noteId = String(note.id);
      item.append(el('p', 'note-text', String(note.text)), timeElement(note.createdAt, { relativeText: true }));
      return item;
    }),
  );
  ui.notesMessage.textContent = notes.length ? '' : 'No notes yet.';
}

// Bumped by every sessions load and every local change to the list: an answer
// to an older load (a slow first load, an earlier Refresh) must not repaint
// sessions that were revoked or signed in since.
let sessionsVersion = 0;

function loadSessions() {
  const version = ++sessionsVersion;
  return loadInto(
    viewEpoch,
    ui.sessionsMessage,
    () => auth.sessions(),
    (list) => {
      sessions = list;
      renderSessions();
    },
    () => version !== sessionsVersion,
  );
}

function renderSessions() {
  // This device first, then most recently active.
  const sorted = [...sessions].sort(
    (a, b) => Number(Boolean(b.current)) - Number(Boolean(a.current)) || Date.parse(b.lastSeenAt) - Date.parse(a.lastSeenAt),
  );
  ui.sessionsList.replaceChildren(...sorted.map(sessionRow));
  ui.sessionsMessage.textContent = sessions.length ? '' : 'No active sessions.';
}

let rowCounter = 0;

function sessionRow(session) {
  const row = el('li', 'session');
  row.dataset.sessionId = String(session.id);
  if (session.current) row.dataset.current = 'true';

  const heading = el('p', 'session-device');
  heading.id = `session-device-${++rowCounter}`; // our own id: server ids aren't safe as DOM ids
  const device = el('strong', '', describeUserAgent(session.userAgent));
  device.title = typeof session.userAgent === 'string' ? session.userAgent : '';
  heading.append(device);
  if (session.current) heading.append(' ', el('span', 'badge badge-current', 'This device'));

  const details = el('dl', 'meta');
  addDetail(details, 'IP', session.ip ? String(session.ip) : 'unknown');
  addDetail(details, 'Created', timeElement(session.createdAt));
  addDetail(details, 'Last seen', timeElement(session.lastSeenAt, { relativeText: true }));

  const button = el('button', 'button secondary small', 'Revoke');
  button.type = 'button';
  button.dataset.testid = 'revoke';
  button.setAttribute('aria-describedby', heading.id); // "Revoke" + which device, for screen readers
  button.addEventListener('click', () => revoke(session, button));

  row.append(heading, details, button);
  return row;
}

async function revoke(session, button) {
  beginAction();
  const epoch = viewEpoch;
  button.disabled = true;
  try {
    await auth.revokeSession(session.id);
  } catch (error) {
    if (epoch !== viewEpoch) return;
    button.disabled = false;
    if (error instanceof AuthError && error.code === 'SESSION_NOT_FOUND') {
      setStatus('That session had already ended.');
      loadSessions();
    } else {
      report(error);
    }
    return;
  }
  if (session.current) {
    setStatus('This device has been signed out.'); // the SDK has already switched us to signed out
    return;
  }
  if (epoch !== viewEpoch) return;
  sessionsVersion += 1; // a load already under way may still list the revoked session
  sessions = sessions.filter((other) => other.id !== session.id);
  renderSessions();
  setStatus('Session revoked.');
  ui.sessionsTitle.focus(); // the focused button was just removed with its row
}

function throttledMessage(error) {
  return error.retryAfterSeconds
    ? `Too many attempts, try again in ${pluralSeconds(error.retryAfterSeconds)}.`
    : 'Too many attempts, try again later.';
}

const isThrottled = (error) => error instanceof AuthError && error.code === 'LOGIN_THROTTLED';

// While sign-in is throttled the button is disabled and counts down the server's Retry-After.
const loginCountdown = createCountdown(ui.loginSubmit, {
  label: (seconds) => `Try again in ${seconds} s`,
  onEnd: () => {
    ui.loginError.textContent = '';
  },
});

onSubmit(ui.loginForm, async () => {
  if (loginCountdown.running) return; // Enter in a field while the button counts down
  beginAction();
  ui.loginError.textContent = '';
  const username = ui.loginUsername.value.trim();
  const password = ui.loginPassword.value;
  if (!username || !password) {
    ui.loginError.textContent = 'Enter your username and password.';
    (username ? ui.loginPassword : ui.loginUsername).focus();
    return;
  }
  try {
    await auth.login({ username, password }); // the authenticated event shows the dashboard
    ui.loginPassword.value = '';
    setStatus('');
  } catch (error) {
    if (isThrottled(error) && error.retryAfterSeconds) {
      ui.loginError.textContent = 'Too many attempts. The button counts down until you can try again.';
      loginCountdown.start(error.retryAfterSeconds);
    } else {
      ui.loginError.textContent = isThrottled(error) ? throttledMessage(error) : errorMessage(error);
    }
    ui.loginPassword.value = '';
    ui.loginPassword.focus();
  }
}, report);

onSubmit(ui.noteForm, async () => {
  beginAction();
  const text = ui.noteInput.value.trim();
  if (!text) {
    setStatus('Write something first.', 'error');
    ui.noteInput.focus();
    return;
  }
  const epoch = viewEpoch;
  const { note } = await api('POST', '/api/notes', { text });
  if (epoch !== viewEpoch) return;
  notes = [...notes.filter((other) => other.id !== note.id), note];
  renderNotes();
  ui.noteInput.value = '';
  ui.noteInput.focus(); // ready for the next note
  setStatus('Note added.');
}, report);

/**
 * What went wrong with "Sign out everywhere", said at that form. The server's
 * INVALID_CREDENTIALS text is the sign-in one ("username or password"), but
 * here nobody typed a username.
 */
function revokeAllFailureMessage(error) {
  if (error instanceof AuthError && error.code === 'INVALID_CREDENTIALS') return 'Wrong password. No session was ended.';
  if (isThrottled(error)) return throttledMessage(error);
  return errorMessage(error);
}

onSubmit(ui.revokeAllForm, async () => {
  beginAction();
  const password = ui.revokeAllPassword.value;
  if (!password) {
    ui.revokeAllError.textContent = 'Enter your password to sign out everywhere.';
    ui.revokeAllPassword.focus();
    return;
  }
  try {
    await auth.revokeAll(password);
  } catch (error) {
    if (sessionEnded(error)) return; // the signed-out view says why
    ui.revokeAllError.textContent = revokeAllFailureMessage(error);
    ui.revokeAllPassword.value = '';
    ui.revokeAllPassword.focus();
    return;
  }
  setStatus('Signed out on every device.');
}, report);

ui.logout.addEventListener('click', async () => {
  beginAction();
  ui.logout.disabled = true;
  try {
    // Signs out here and in every other tab. It rejects only when the server may
    // not have ended the session (offline, 5xx): then we stay signed in and say so.
    // A session from the Demo IdP also ends there: the page goes to the provider, which asks and sends it back.
    await auth.logout(signedInAtProvider ? { atProvider: true } : undefined);
  } catch (error) {
    report(error);
  } finally {
    ui.logout.disabled = false;
  }
});

ui.upstreamCall.addEventListener('click', async () => {
  beginAction();
  const epoch = viewEpoch;
  ui.upstreamCall.disabled = true;
  try {
    await loadInto(epoch, ui.upstreamMessage, () => api('GET', '/api/upstream/whoami'), renderUpstream);
  } finally {
    ui.upstreamCall.disabled = false;
  }
});

ui.sessionsReload.addEventListener('click', () => {
  beginAction();
  loadSessions();
});

const SIGNED_OUT_MESSAGES = {
  logout: ['You have signed out.', 'info'],
  expired: ['Your session has expired. Please sign in again.', 'error'],
  revoked: ['Your session was ended, here or on another device. Please sign in again.', 'error'],
  reused: ['Your session was ended because its sign-in was used from somewhere else. Please sign in again.', 'error'],
};

// The SDK tells us when someone signs in (here or in another tab) and when the
// session ends, for whatever reason and wherever it was noticed.
auth.on('authenticated', (signedInUser) => showSignedIn(signedInUser));
auth.on('unauthenticated', ({ reason }) => showSignedOut(...(SIGNED_OUT_MESSAGES[reason] ?? SIGNED_OUT_MESSAGES.expired)));

/** One "Sign in with …" button per provider the server offers; none (and no "or") when it offers none or cannot say. */
async function showProviders() {
  let providers = [];
  try {
    providers = await auth.providers();
  } catch {
    return; // the password form still works
  }
  ui.providerButtons.replaceChildren(
    ...providers.map((provider) => {
      const button = el('button', 'button secondary wide', `Sign in with ${provider.displayName}`);
      button.type = 'button';
      button.dataset.testid = `provider-${provider.id}`;
      button.addEventListener('click', () => {
        beginAction();
        button.disabled = true; // the page is going to the provider
        auth.login({ provider: provider.id, returnTo: '/' }).catch(report);
      });
      return button;
    }),
  );
  ui.providers.hidden = providers.length === 0;
}

// Back from the provider's page (the browser's back button restores this page as it was): the buttons work again.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) for (const button of ui.providerButtons.querySelectorAll('button')) button.disabled = false;
});

async function start() {
  showView('loading');
  showProviders();
  try {
    await auth.getUser(); // signed in: the authenticated event has shown the dashboard
  } catch (error) {
    if (view !== 'loading') return; // a session that ended has been announced by the event
    // 401 simply means "not signed in"; anything else is worth saying.
    showSignedOut(error instanceof AuthError && error.status === 401 ? '' : errorMessage(error), 'error');
  }
}

start();
