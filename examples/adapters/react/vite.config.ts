import { defineConfig } from 'vite';

// `vite build react` from examples/adapters (or `npm run build:react`): a production build in react/dist/app.
export default defineConfig({
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    reportCompressedSize: false,
    rolldownOptions: {
      onwarn(warning, warn) {
        // react-router marks its modules "use client" for React Server Components; meaningless in a browser bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
