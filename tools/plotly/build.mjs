// Builds the plotly.js partial bundle the article ships: plotly.js's core with only the trace types
// the article draws (VENDOR.json "traces": heatmap and scatter, for figures.js), minified by esbuild.
//
//     node tools/plotly/build.mjs OUT.js        (tools/plotly/vendor.py runs it after `npm ci`)
//
// Why not an official partial bundle from the registry: "cartesian" (497 kB gzipped) carries trace
// types the article never draws (bar, box, histogram, ...); this one is 363 kB gzipped. scattergl
// (98 kB gzipped more) was left out: the large page's 10,000 points draw as SVG scatter. Attribute descriptions (documentation strings of the plot schema, never used to
// draw) are left out, as plotly.js's own dist bundles do. Same lock, same inputs -> same bytes.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vendor = JSON.parse(await readFile(join(here, '..', '..', 'article', 'vendor', 'plotly', 'VENDOR.json'), 'utf8'));
const version = JSON.parse(await readFile(join(here, 'node_modules', 'plotly.js', 'package.json'), 'utf8')).version;
if (version !== vendor.version) throw new Error(`node_modules has plotly.js ${version}, VENDOR.json names ${vendor.version}`);

// `description: <string literal(s)>` or `description: [<string literals>].join(<string>)`, when
// nothing but a comma or the end of the object follows (a description built from variables stays)
const STR = String.raw`'(?:[^'\\\n]|\\.)*'`;
const DESCRIPTION = new RegExp(String.raw`\bdescription:\s*(?:${STR}(?:\s*\+\s*${STR})*|` +
  String.raw`\[(?:\s*${STR}\s*,?)*\s*\]\.join\(\s*${STR}\s*\))(?!\s*[+.\[])\s*,?`, 'g');
let removed = 0;
const stripDescriptions = {
  name: 'strip-descriptions',
  setup(b) {
    b.onLoad({ filter: /[\\/]plotly\.js[\\/]src[\\/].*\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      return { contents: src.replace(DESCRIPTION, () => { removed += 1; return ''; }), loader: 'js' };
    });
  },
};

const traces = vendor.traces.filter((t) => t !== 'scatter');   // scatter is part of the core
const entry = "'use strict';\nvar Plotly = require('plotly.js/lib/core');\n" +
  `Plotly.register([${traces.map((t) => `require('plotly.js/lib/${t}')`).join(', ')}]);\nmodule.exports = Plotly;\n`;
const header = `/**\n* plotly.js v${version} (clip-article partial bundle: ${vendor.traces.join(', ')} - minified)\n` +
  '* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n*/';

await build({
  stdin: { contents: entry, resolveDir: here, loader: 'js', sourcefile: 'clip-article-plotly.js' },
  absWorkingDir: here, outfile: resolve(process.argv[2]), bundle: true, minify: true, format: 'iife', globalName: 'Plotly',
  target: 'es2016', define: { global: 'window', 'define.amd': 'false' }, alias: { regl: '@plotly/regl' },
  plugins: [stripDescriptions], banner: { js: header }, footer: { js: 'window.Plotly = Plotly;' },
  legalComments: 'eof', logLevel: 'error',
});
if (removed < 100) throw new Error(`only ${removed} attribute descriptions found: has plotly.js's source layout changed?`);
console.log(`${process.argv[2]}: plotly.js ${version} with ${vendor.traces.join(', ')} (${removed} descriptions left out)`);
