// Jest runs this project as CommonJS, and some maintained parsers ship only ES modules
// (toml-eslint-parser). Their .mjs files are turned into CommonJS with esbuild, which already
// bundles dist/ the same way; the action itself never loads this file.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, { loader: 'js', format: 'cjs', target: 'node20', sourcefile: filename, sourcemap: true });
    return { code, map };
  },
};
