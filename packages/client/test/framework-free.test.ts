// Importing the core client must not pull in Angular, React or Vue: they are
// optional peer dependencies, needed only by the adapter subpaths. This reads
// the built output (what a bundler sees), following every static and dynamic
// import from the package's main entry.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
  exports: Record<string, { default: string }>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  dependencies?: Record<string, string>;
};

interface ImportGraph {
  /** Built files reached from the entry, relative to the package. */
  readonly files: string[];
  /** Every bare (package) specifier any of them imports. */
  readonly packages: string[];
}

/** The modules a built entry reaches: relative imports are followed, package imports collected. */
function importGraph(entry: string): ImportGraph {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName));
      else packages.add(fileName);
    }
  };
  visit(join(PACKAGE_DIR, entry));
  return { files: [...seen].map((file) => file.slice(PACKAGE_DIR.length)).sort(), packages: [...packages].sort() };
}

describe('@gatehouse/client keeps frameworks out of the core', () => {
  it('the main entry imports no package at all (so no framework), only its own files', () => {
    const graph = importGraph(manifest.exports['.']!.default);
    expect(graph.packages).toEqual([]);
    expect(graph.files.filter((file) => /(angular|react|vue)\.js$/.test(file))).toEqual([]);
    expect(graph.files).toContain('dist/index.js');
  });

  it('each adapter subpath imports its own framework (the check above can see one)', () => {
    expect(importGraph(manifest.exports['./angular']!.default).packages).toEqual([
      '@angular/common/http',
      '@angular/core',
      '@angular/router',
      'rxjs',
    ]);
    expect(importGraph(manifest.exports['./react']!.default).packages).toEqual(['react']);
    // vue-router is used for types only, so the Vue adapter runs without it.
    expect(importGraph(manifest.exports['./vue']!.default).packages).toEqual(['vue']);
  });

  it('frameworks are optional peer dependencies, never dependencies', () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    const peers = Object.keys(manifest.peerDependencies).sort();
    expect(peers).toEqual(['@angular/common', '@angular/core', '@angular/router', 'react', 'rxjs', 'vue', 'vue-router']);
    for (const name of peers) expect(manifest.peerDependenciesMeta[name], name).toEqual({ optional: true });
  });
});
