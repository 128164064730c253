// Display helpers for server data. They return strings or text-only nodes, so
// nothing the server sends is ever interpreted as HTML.

const BROWSERS = [
  [/Edg(?:e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\//, 'Chrome'], // after Edge/Opera: both also claim Chrome
  [/Safari\//, 'Safari'], // last: nearly every browser claims Safari
  [/^curl\//, 'curl'],
  [/node|undici/i, 'Node.js'],
];
const SYSTEMS = [
  [/iPhone|iPad|iPod/, 'iOS'], // before macOS: iOS UAs say "like Mac OS X"
  [/Android/, 'Android'], // before Linux: Android UAs say Linux
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Macintosh|Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

const match = (table, text) => table.find(([pattern]) => pattern.test(text))?.[1];

/** "Firefox on macOS" from a full User-Agent string; the raw string is too long to scan. */
export function describeUserAgent(userAgent) {
  if (typeof userAgent !== 'string' || userAgent.trim() === '') return 'Unknown device';
  const browser = match(BROWSERS, userAgent);
  const system = match(SYSTEMS, userAgent);
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return browser ?? system;
  return userAgent.length > 40 ? `${userAgent.slice(0, 39)}…` : userAgent;
}

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const absoluteWithSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

function describeRelative(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  const size = Math.abs(seconds);
  if (size < 45) return relative.format(0, 'second'); // "now", in the viewer's language
  if (size > 7 * 86_400) return absolute.format(date); // "23 days ago" is harder to place than a date
  const [unit, length] = UNITS.find(([, unitSeconds]) => size >= unitSeconds) ?? UNITS[2];
  return relative.format(Math.round(seconds / length), unit);
}

/**
 * A <time> element for an ISO date string; relative text ("5 minutes ago") when asked,
 * seconds when they matter (a token that lives a minute).
 */
export function timeElement(iso, { relativeText = false, seconds = false } = {}) {
  const element = document.createElement('time');
  const date = new Date(iso);
  if (typeof iso !== 'string' || Number.isNaN(date.getTime())) {
    element.textContent = 'unknown';
    return element;
  }
  element.dateTime = date.toISOString();
  const format = seconds ? absoluteWithSeconds : absolute;
  element.textContent = relativeText ? describeRelative(date) : format.format(date);
  element.title = format.format(date);
  return element;
}

/** Seconds as "1 second" / "30 seconds". */
export function pluralSeconds(count) {
  return `${count} ${count === 1 ? 'second' : 'seconds'}`;
}
