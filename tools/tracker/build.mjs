// Minify the browser scripts (static/tracker.js and static/widgets.js, the sources, at the checkout's top
// level) into collector/static/NAME.min.js with terser (pinned in package.json), and record which source
// each was built from in NAME.min.json; the package ships both, and a checkout's collector serves a
// minified file only while its record matches the source. Run by `./dev build-tracker`; `--check` exits 1
// when the committed files are not what this build makes.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const SOURCES = new URL('../../static/', import.meta.url);
const STATIC = new URL('../../collector/static/', import.meta.url);
const SCRIPTS = ['tracker', 'widgets'];
// ES5 in and out: the scripts run in every browser a shop's visitors have.
const OPTIONS = { ecma: 5, compress: { passes: 3 }, mangle: true, format: { ecma: 5 } };
const terser = JSON.parse(readFileSync(new URL('node_modules/terser/package.json', import.meta.url), 'utf8'));
let stale = false;

for (const name of SCRIPTS) {
  const source = readFileSync(new URL(`${name}.js`, SOURCES), 'utf8');
  const options = JSON.stringify(OPTIONS);  // as given: terser fills in the object it is handed
  const { code } = await minify(source, JSON.parse(options));
  const minified = code + '\n';
  const record = JSON.stringify({
    source_sha256: createHash('sha256').update(source).digest('hex'),
    terser: terser.version,
    options: JSON.parse(options),
  }, null, 1) + '\n';
  if (process.argv.includes('--check')) {
    const same = (file, text) => readFileSync(new URL(file, STATIC), 'utf8') === text;
    if (!same(`${name}.min.js`, minified) || !same(`${name}.min.json`, record)) {
      console.error(`collector/static/${name}.min.js is not built from static/${name}.js: run ./dev build-tracker`);
      stale = true;
    }
  } else {
    writeFileSync(new URL(`${name}.min.js`, STATIC), minified);
    writeFileSync(new URL(`${name}.min.json`, STATIC), record);
    console.log(`${name}.min.js: ${minified.length} bytes (terser ${terser.version})`);
  }
}
process.exit(stale ? 1 : 0);
