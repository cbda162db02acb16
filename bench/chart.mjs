// Draws a `npm run bench` results file as an SVG bar chart: requests per second per case (median,
// with the min–max of the rounds as a whisker) and each case's ratio to the bare http-proxy-3 proxy
// of the same round. No dependencies: the SVG is written by hand.
//   node bench/chart.mjs [--in bench/results/<run>.json] [--out docs/images/bench.svg]
// Without --in: the newest bench/results/*.json, else bench/baseline/ (the published run).
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const { values } = benchArgs(import.meta.url, { in: { type: 'string' }, out: { type: 'string', default: join(BENCH, '../docs/images/bench.svg') } });

const newest = (dir) => {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f)).at(-1);
  } catch {
    return undefined;
  }
};
const file = values.in ?? newest(join(BENCH, 'results')) ?? newest(join(BENCH, 'baseline'));
if (!file) {
  process.stderr.write('no results file: run `npm run bench` first, or give --in FILE\n');
  process.exit(2);
}
const run = JSON.parse(readFileSync(file, 'utf8'));
writeFileSync(mkdirp(values.out), svg(run));
console.log(`${relative(process.cwd(), values.out)}: ${run.cases.length} cases from ${relative(process.cwd(), file)}`);

function mkdirp(out) {
  mkdirSync(dirname(out), { recursive: true });
  return out;
}

function svg(run) {
  // The table's labels say what each process is; the chart's left column has room for a short name.
  const SHORT = { 'nginx-fa': 'nginx auth_request → Gatehouse forward-auth', 'nginx-fa-floor': 'FLOOR: nginx auth_request → bare node:http', 'nginx-fa-base': 'nginx auth_request → baseline build' };
  const rows = run.cases.map(({ id, label }) => ({ id, ...run.summary[id], label: SHORT[id] ?? run.summary[id]?.label ?? label })).filter((r) => r.rps?.median);
  const W = 860, left = 370, right = 110, rowH = 24, top = 58, bottom = 42;
  const H = top + rows.length * rowH + bottom;
  const max = niceMax(Math.max(...rows.map((r) => r.rps.range?.[1] ?? r.rps.median)));
  const x = (v) => left + (v / max) * (W - left - right);
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const colour = (id) => (id.startsWith('gh-') || id.startsWith('cold-') ? '#2f6fb0' : id === 'bare' ? '#444' : '#9a9a9a');
  const m = run.machine ?? {};
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="12" y="22" font-size="15" font-weight="600">Requests per second (median of ${run.settings?.rounds ?? '?'} rounds; whisker: min–max) and × the bare http-proxy-3 proxy</text>`);
  out.push(`<text x="12" y="40" fill="#555">${esc(`${String(run.started).slice(0, 10)} · ${m.cpuModel ?? ''}, ${m.cores ?? '?'} cores · Node ${m.node ?? '?'} · ${run.settings?.connections ?? '?'} connections · load generator, upstream and proxy share the cores`)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    out.push(`<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${H - bottom + 4}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x(v)}" y="${H - bottom + 18}" text-anchor="middle" fill="#555">${Math.round(v).toLocaleString('en-US')}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const [lo, hi] = r.rps.range ?? [r.rps.median, r.rps.median];
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>`);
    out.push(`<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(r.rps.median) - left)}" height="${rowH - 8}" fill="${colour(r.id)}"/>`);
    out.push(`<line x1="${x(lo)}" y1="${y + rowH / 2}" x2="${x(hi)}" y2="${y + rowH / 2}" stroke="#000" stroke-width="1"/>`);
    const ratio = r.ratioToBare?.median;
    out.push(`<text x="${x(Math.max(hi, r.rps.median)) + 6}" y="${y + 15}" fill="#333">${Math.round(r.rps.median).toLocaleString('en-US')}${ratio ? ` · ${ratio.toFixed(2)}×` : ''}</text>`);
  });
  out.push(`<text x="12" y="${H - 8}" fill="#555">blue: Gatehouse · dark: the baseline · grey: references. From ${esc(file.replace(/^.*\/bench\//, 'bench/'))}; method: bench/README.md</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A round axis end above v (1, 2, 4, 5 or 8 times a power of ten: quarters stay round). */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 4, 5, 8, 10].map((k) => k * p).find((n) => n >= v);
}
