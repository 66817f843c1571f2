// Assembles the web app into web/dist/: no bundler, plain ES modules.
//
//   dist/index.html, field.html, report.html, plan.html, reports.html   the pages (no-cache, see src/http/web.rs)
//   dist/config.json                            deployment settings (basemap …): config.local.json
//                                               if present, else src/config.json
//   dist/assets/<hash>/                         js/, app.css, taxonomy.json, vendor/maplibre-gl.*
//
// <hash> is a content hash of everything under assets/, so the pages always load the files
// of their own build while the server may let browsers cache assets (they never change
// under the same name).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const maplibre = join(here, 'node_modules', 'maplibre-gl', 'dist');
const taxonomy = join(here, '..', 'geodata', 'taxonomy.json');

for (const f of [join(maplibre, 'maplibre-gl-csp.js'), join(maplibre, 'maplibre-gl-csp-worker.js'), taxonomy]) {
  if (!existsSync(f)) {
    console.error(`build: ${relative(here, f)} is missing${f.includes('node_modules') ? ' — run `npm ci` first' : ''}`);
    process.exit(1);
  }
}

/** Files of the assets directory: [path inside assets/<hash>, absolute source]. */
const assets = [];
const walk = (dir, prefix) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
    else assets.push([`${prefix}${name}`, p]);
  }
};
walk(join(src, 'js'), 'js/');
assets.push(['app.css', join(src, 'css', 'app.css')]);
assets.push(['taxonomy.json', taxonomy]);
// The CSP build of MapLibre: its worker is a file of its own (vendor/maplibre-gl-csp-worker.js,
// set in js/boot.js), fetched and compiled in parallel with the main bundle instead of being
// rebuilt from a blob of the main bundle.
assets.push(['vendor/maplibre-gl.js', join(maplibre, 'maplibre-gl-csp.js')]);
assets.push(['vendor/maplibre-gl-worker.js', join(maplibre, 'maplibre-gl-csp-worker.js')]);
assets.push(['vendor/maplibre-gl.css', join(maplibre, 'maplibre-gl.css')]);

const h = createHash('sha256');
for (const [name, path] of assets) {
  h.update(name);
  h.update(readFileSync(path));
}
const hash = h.digest('hex').slice(0, 12);
const base = `/assets/${hash}`;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
for (const [name, path] of assets) {
  const to = join(dist, 'assets', hash, name);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(path, to);
}
// Every page shares its <head> (filled from the page's `%HEAD%` line: title, what to fetch
// early, its module, `mobile` for phone pages) and the top bar (brand, navigation, sign-in
// with its dialog, language).
const headPartial = readFileSync(join(src, 'partials', 'head.html'), 'utf8').trimEnd();
const header = readFileSync(join(src, 'partials', 'header.html'), 'utf8').trimEnd();
function head(page, line) {
  const attr = (name) => {
    const m = line.match(new RegExp(`${name}=(?:"([^"]*)"|'([^']*)')`));
    if (!m) throw new Error(`${page}: %HEAD% needs ${name}`);
    return m[1] ?? m[2];
  };
  const mobile = /\smobile[\s:]/.test(line);
  return headPartial
    .replace('%VIEWPORT%', `width=device-width, initial-scale=1${mobile ? ', viewport-fit=cover' : ''}`)
    .replace('%THEME%', mobile ? '<meta name="theme-color" content="#b71c1c">\n' : '')
    .replace('%TITLE%', attr('title'))
    .replace('%EARLY%', attr('early'))
    .replace('%MODULE%', attr('module'));
}
for (const page of ['index.html', 'field.html', 'report.html', 'plan.html', 'reports.html']) {
  const html = readFileSync(join(src, page), 'utf8')
    .replace(/<!-- %HEAD% [^\n]*-->/, (line) => head(page, line))
    .replace(/<!-- %HEADER%[^>]*-->/, header)
    .replaceAll('%ASSETS%', base);
  if (html.includes('%HEAD%')) throw new Error(`${page}: %HEAD% not filled`);
  writeFileSync(join(dist, page), html);
}
const local = join(here, 'config.local.json');
const config = existsSync(local) ? local : join(src, 'config.json');
JSON.parse(readFileSync(config, 'utf8')); // fail the build on a malformed config
cpSync(config, join(dist, 'config.json'));
cpSync(join(src, 'favicon.svg'), join(dist, 'favicon.svg'));

console.log(`web/dist built: assets/${hash} (${assets.length} files), config from ${relative(here, config)}`);
