import { transformAsync } from '@babel/core';
import angularLinker from '@angular/compiler-cli/linker/babel';
import { defineConfig, type Plugin } from 'vite';

/**
 * Angular's own packages ship partially compiled; the Angular linker finishes
 * them at build time (as the Angular CLI does), so the app needs neither the
 * JIT compiler nor a CSP with 'unsafe-eval'.
 */
function angularLinkerPlugin(): Plugin {
  return {
    name: 'angular-linker',
    async transform(code, id) {
      if (!/[\\/]node_modules[\\/]@angular[\\/]/.test(id) || !code.includes('ɵɵngDeclare')) return null;
      const result = await transformAsync(code, {
        filename: id,
        babelrc: false,
        configFile: false,
        compact: false,
        sourceMaps: false,
        plugins: [[angularLinker, { linkerJitMode: false }]],
      });
      return result?.code ?? null;
    },
  };
}

// Run `ngc -p angular/tsconfig.json` first (it writes dist/ngc), then `vite build angular`
// from examples/adapters (together: `npm run build:angular`). The bundle lands in angular/dist/app.
export default defineConfig({
  plugins: [angularLinkerPlugin()],
  // Angular's production switches: no dev-mode checks, no JIT paths.
  define: { ngDevMode: 'false', ngJitMode: 'false', ngI18nClosureMode: 'false' },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    reportCompressedSize: false,
    // The linker is most of the build's time by design; no need to be told on every build.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
