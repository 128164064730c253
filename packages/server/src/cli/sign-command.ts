import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { configuredSignatureKeys } from '../signatures/from-config.js';
import { ed25519SigningKey, hmacSignatureKey, type SignatureSigningKey } from '../signatures/keys.js';
import { signRequest } from '../signatures/signer.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import type { CLIValues } from './command-line.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIFailure, CLIUsageError, type CLIIO } from './io.js';

/**
 * `gatehouse sign`: signs one request (RFC 9421) and prints it as a curl
 * command line, or with `--json` as the headers to send. For trying a signed
 * API by hand and for scripts; programs use `signRequest`.
 */
export const sign: Command = {
  name: 'sign',
  usage: ['sign <METHOD> <URL> --key-id ID [--key-file FILE] [--data TEXT]'],
  summary: 'Sign a request (RFC 9421) and print it as a curl command',
  options: ['key-id', 'key-file', 'header', 'data', 'data-file', 'expires-in', 'json', ...CONFIG_OPTIONS],
  example: `gatehouse sign POST https://api.example.com/orders --key-id partner-a --key-file partner-a.secret --header "Content-Type: application/json" --data '{"item":"lamp"}'`,
  async run(operands, values, io) {
    const [method, url, ...extra] = operands;
    if (method === undefined || url === undefined || extra.length > 0) throw new CLIUsageError('expected a method and a URL, e.g. sign POST https://api.example.com/orders');
    if (!/^[A-Za-z]+$/.test(method)) throw new CLIUsageError(`"${method}" is not an HTTP method`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CLIUsageError(`"${url}" is not an absolute URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new CLIUsageError('the URL must be http: or https:');
    const keyid = values['key-id'];
    if (keyid === undefined) throw new CLIUsageError('--key-id is required: the keyid the server knows the key by');
    if (values.data !== undefined && values['data-file'] !== undefined) throw new CLIUsageError('give --data or --data-file, not both');

    const key = signingKey(keyid, values, io);
    const headers = parseHeaders(values.header ?? []);
    const body = await readBody(values, io);
    const expiresInSeconds = values['expires-in'] === undefined ? undefined : parseSeconds(values['expires-in']);
    const signature = signRequest({ method: method.toUpperCase(), url: parsed, headers, body }, { key, ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) });
    const sent: Record<string, string> = { ...headers, ...signature };
    if (values.json) {
      io.stdout(`${JSON.stringify({ method: method.toUpperCase(), url: parsed.href, headers: sent })}\n`);
      return 0;
    }
    io.stdout(`${curlCommand(method.toUpperCase(), parsed.href, sent, typeof body === 'string' ? body : null, values['data-file'])}\n`);
    return 0;
  },
};

/**
 * The signing key: `--key-file` holding an Ed25519 private key (PEM) or a
 * shared secret (base64); without it, the `hmac-sha256` secret of `--key-id`
 * in the configuration's `signatures.keys`.
 */
function signingKey(keyid: string, values: CLIValues, io: CLIIO): SignatureSigningKey {
  const file = values['key-file'];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolvePath(io.cwd, file), 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CLIFailure(`cannot read --key-file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    try {
      return text.includes('PRIVATE KEY') ? ed25519SigningKey(keyid, text) : hmacSignatureKey(keyid, text);
    } catch (error) {
      // The messages say what is wrong with the key, never what it holds.
      throw new CLIFailure(`--key-file ${file}: ${(error as Error).message}`);
    }
  }
  const config = configFromFlags(values, io);
  const configured = config.signatures.keys.find((k) => k.keyid === keyid);
  if (configured === undefined) throw new CLIFailure(`no key ${keyid} in signatures.keys; give the key with --key-file`);
  if (configured.alg !== 'hmac-sha256') {
    throw new CLIFailure(`${keyid} is an ed25519 key: the configuration holds only its public key; sign with --key-file PRIVATE-KEY.pem`);
  }
  const [key] = configuredSignatureKeys({ ...config.signatures, keys: [configured] });
  if (key === undefined) throw new CLIFailure(`no key ${keyid} in signatures.keys`);
  return key;
}

/** `Name: value` lines into a header record (names lower-cased). */
function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon <= 0 || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new CLIUsageError(`--header "${line}" is not "Name: value"`);
    if (name === 'signature' || name === 'signature-input' || name === 'content-digest') throw new CLIUsageError(`--header ${name} is what sign adds itself`);
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The body: `--data` as UTF-8 text, `--data-file` as bytes (`-` for standard input), or none. */
async function readBody(values: CLIValues, io: CLIIO): Promise<Uint8Array | string | null> {
  if (values.data !== undefined) return values.data;
  const file = values['data-file'];
  if (file === undefined) return null;
  if (file === '-') return io.readStdin();
  try {
    return readFileSync(resolvePath(io.cwd, file));
  } catch (error) {
    throw new CLIFailure(`cannot read --data-file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

function parseSeconds(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 3600) throw new CLIUsageError('--expires-in takes whole seconds from 1 to 3600');
  return Number(text);
}

/** Quotes `text` for a POSIX shell: single quotes, each inner `'` as `'\''`. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A curl command that sends exactly the signed request: `--data-binary`
 * (curl's `-d` would strip newlines the digest covers), a body read from a
 * file by reference to that file, text (`--data`, standard input) inline.
 */
function curlCommand(method: string, url: string, headers: Record<string, string>, text: string | null, file: string | undefined): string {
  const parts = ['curl', '-X', method, shellQuote(url)];
  for (const [name, value] of Object.entries(headers)) parts.push('-H', shellQuote(`${name}: ${value}`));
  if (text !== null) parts.push('--data-binary', shellQuote(text));
  else if (file !== undefined) parts.push('--data-binary', shellQuote(`@${file}`));
  return parts.join(' ');
}
