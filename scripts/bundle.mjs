// Bundles the two entry points into dist/ (CommonJS, not minified, with source maps) so the
// runner executes exactly what was reviewed. `npm run build` then `git diff dist` must be empty.
import { build } from 'esbuild';

await build({
  entryPoints: { index: 'src/index.ts', post: 'src/post.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
});
