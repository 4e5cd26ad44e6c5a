import { defineConfig } from 'vitest/config';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const outDir = resolve(__dirname, '../internal/web/dist');

// The app is built into internal/web/dist, which the Go binary embeds.
// Vite empties the directory first; the hook puts back the .gitkeep that
// git tracks there so a build leaves the work tree clean.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
    rollupOptions: {
      onwarn(w, warn) {
        // React Query and React Router mark modules "use client"; that
        // means nothing outside server components.
        if (w.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(w);
      },
    },
  },
  plugins: [
    {
      name: 'crest-gitkeep',
      closeBundle() {
        writeFileSync(resolve(outDir, '.gitkeep'), '');
      },
    },
  ],
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
