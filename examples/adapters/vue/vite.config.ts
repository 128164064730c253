import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// `vite build vue` from examples/adapters (or `npm run build:vue`): a production build in vue/dist/app.
export default defineConfig({
  plugins: [vue()],
  build: { outDir: 'dist/app', emptyOutDir: true, reportCompressedSize: false },
});
