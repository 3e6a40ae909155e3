// Minify static/tracker.js (the source, at the checkout's top level) into collector/static/tracker.min.js
// with terser (pinned in package.json), and record which source it was built from in tracker.min.json;
// the package ships both, and a checkout's collector serves the minified file only while that record
// matches the source. Run by `./dev build-tracker`; `--check` exits 1 when the committed
// files are not what this build makes.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const SOURCES = new URL('../../static/', import.meta.url);
const STATIC = new URL('../../collector/static/', import.meta.url);
// ES5 in and out: the tracker runs in every browser a shop's visitors have.
const OPTIONS = { ecma: 5, compress: { passes: 3 }, mangle: true, format: { ecma: 5 } };

const source = readFileSync(new URL('tracker.js', SOURCES), 'utf8');
const options = JSON.stringify(OPTIONS);  // as given: terser fills in the object it is handed
const { code } = await minify(source, OPTIONS);
const terser = JSON.parse(readFileSync(new URL('node_modules/terser/package.json', import.meta.url), 'utf8'));
const minified = code + '\n';
const record = JSON.stringify({
  source_sha256: createHash('sha256').update(source).digest('hex'),
  terser: terser.version,
  options: JSON.parse(options),
}, null, 1) + '\n';

if (process.argv.includes('--check')) {
  const same = (name, text) => readFileSync(new URL(name, STATIC), 'utf8') === text;
  if (!same('tracker.min.js', minified) || !same('tracker.min.json', record)) {
    console.error('collector/static/tracker.min.js is not built from static/tracker.js: run ./dev build-tracker');
    process.exit(1);
  }
} else {
  writeFileSync(new URL('tracker.min.js', STATIC), minified);
  writeFileSync(new URL('tracker.min.json', STATIC), record);
  console.log(`tracker.min.js: ${minified.length} bytes (terser ${terser.version})`);
}
