#!/usr/bin/env node
// Renders a translated workload with mustache.js or Handlebars (peers/run.sh).
//
// Usage: node node_driver.js ENGINE render TEMPLATE CONTEXT_JSON     # output on stdout (whole process)
//        node node_driver.js ENGINE bench TEMPLATE CONTEXT_JSON [--context-in-loop] [--min-time S]
//   ENGINE: mustache | handlebars. bench compiles and renders repeatedly (at least 3 times, until S seconds,
//   default 3, have passed; at most 50; the template cache is off, so every iteration parses) and prints
//   {"median": seconds, "iterations": n, "output_bytes": n}. --context-in-loop also parses the context's
//   JSON text in every iteration (bigvars).
//
// For Handlebars, Octostache's truthiness and the filters the workloads use are registered as helpers
// (see translate.py); mustache takes only the workloads without logic.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, 'node_modules');
const [engineName, mode, templatePath, contextPath] = process.argv.slice(2);
if (!['mustache', 'handlebars'].includes(engineName) || !['render', 'bench'].includes(mode) || !contextPath) {
  process.stderr.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 13).join('\n') + '\n');
  process.exit(2);
}

function truthy(v) {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  const s = String(v);
  const t = s.trim().toLowerCase();
  return !(s === '' || s === '0' || t === 'no' || t === 'false');
}
const VERSION = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([^+]*))?(?:\+(.*))?$/;
const versionPart = (i) => (v) => {
  const m = VERSION.exec(String(v).trim());
  return m ? m[i] || '' : '';
};

function makeRenderer() {
  if (engineName === 'mustache') {
    const Mustache = require(path.join(modules, 'mustache'));
    Mustache.templateCache = undefined;  // parse on every render, as the other engines do
    return (text, ctx) => Mustache.render(text, ctx);
  }
  const hb = require(path.join(modules, 'handlebars')).create();
  const helpers = {
    truthy: (v) => truthy(v),
    eq: (a, b) => String(a) === String(b),
    split: (v) => String(v).split(','),
    upper: (v) => String(v).toUpperCase(),
    lower: (v) => String(v).toLowerCase(),
    trim: (v) => String(v).trim(),
    replace: (v, a, b) => String(v).split(a).join(b),
    htmlescape: (v) => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\//g, '&#x2F;'),
    jsonescape: (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r/g, '\\r')
        .replace(/\n/g, '\\n').replace(/\t/g, '\\t'),
    versionmajor: versionPart(1),
    versionminor: versionPart(2),
    versionprerelease: versionPart(5),
  };
  for (const [name, fn] of Object.entries(helpers)) {
    // Handlebars passes its options object last; the helpers take only the values before it.
    hb.registerHelper(name, (...args) => fn(...args.slice(0, -1)));
  }
  const options = {noEscape: true, ignoreStandalone: true, strict: false};
  return (text, ctx) => hb.compile(text, options)(ctx);
}

const render = makeRenderer();
const text = fs.readFileSync(templatePath, 'utf8');
const contextText = fs.readFileSync(contextPath, 'utf8');
if (mode === 'render') {
  const out = render(text, JSON.parse(contextText));
  const buf = Buffer.from(out, 'utf8');
  for (let at = 0; at < buf.length;) at += fs.writeSync(1, buf, at);
} else {
  const contextInLoop = process.argv.includes('--context-in-loop');
  const i = process.argv.indexOf('--min-time');
  const minTime = i > 0 ? Number(process.argv[i + 1]) : 3.0;
  const context = JSON.parse(contextText);
  const times = [];
  let out = '';
  const start = process.hrtime.bigint();
  const elapsed = (from) => Number(process.hrtime.bigint() - from) / 1e9;
  while (times.length < 3 || (elapsed(start) < minTime && times.length < 50)) {
    // Free the previous iteration's garbage outside the timed part (run with --expose-gc): mustache.js
    // needs about 4 GB of heap for the 32 MB passthrough text, and two of those do not fit.
    out = '';
    if (global.gc) global.gc();
    const t0 = process.hrtime.bigint();
    const ctx = contextInLoop ? JSON.parse(contextText) : context;
    out = render(text, ctx);
    times.push(elapsed(t0));
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  process.stdout.write(JSON.stringify({median, iterations: n, output_bytes: Buffer.byteLength(out)}) + '\n');
}
