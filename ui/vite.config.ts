/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The page is served by the billing API at "/", next to the /env.js it writes.
export default defineConfig({
  plugins: [react()],
  base: '/',
  // One chunk is fine for one page; the budget that matters (JS + CSS gzipped) is dev/bundle-size.mjs.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    testTimeout: 15000,
  },
});
