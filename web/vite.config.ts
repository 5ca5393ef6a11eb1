import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built with `npx vite build --config web/vite.config.ts` into web/dist, which `parley serve`
// serves at `/`. Relative asset paths keep it working behind a path prefix.
export default defineConfig({
  root: fileURLToPath(new URL('./', import.meta.url)),
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1' },
});
