// The console is served by `mailmoat serve` under /console/; the build goes
// into the CMake build directory (MAILMOAT_CONSOLE_OUT), never into the sources.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  base: '/console/',
  plugins: [preact()],
  build: {
    outDir: process.env.MAILMOAT_CONSOLE_OUT ?? '../build/console',
    emptyOutDir: true,
    // One origin, no inline scripts: everything the CSP `default-src 'self'` allows.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
