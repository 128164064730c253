// Measures what the core SDK costs a browser: the `@gatehouse/client` entry
// (every export, so nothing is shaken out) bundled and minified by esbuild,
// then gzipped at level 9. Run after the build: `npm run size`.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  write: false,
  logLevel: 'error',
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 });
const kib = (bytes) => `${(bytes / 1024).toFixed(2)} KiB`;
console.log(`@gatehouse/client (core entry): ${code.length} B minified (${kib(code.length)}), ${gzipped.length} B min+gz (${kib(gzipped.length)})`);
