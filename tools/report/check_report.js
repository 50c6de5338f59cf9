#!/usr/bin/env node
// Opens pitlane's HTML reports in Debian's Chromium (headless, through playwright-core; never a
// downloaded browser) and checks what a reader would see:
//   - the page loads from its file with no console error, no page error and no network request;
//   - the page script finished (body[data-ready="1"]) and no section shows an error;
//   - every chart has drawn: each .chart holds a canvas with painted pixels;
//   - every <video> reaches readyState >= 2 (a frame can be shown) with a finite duration > 0;
//   - at least --min-charts charts and --min-videos videos are there.
// A full-page screenshot of each report goes to OUT_DIR/<name>.png; its path is printed.
//
//   node check_report.js --out build/report-test [--min-charts N] [--min-videos N]
//        [--chromium /usr/bin/chromium] [--part-shot SELECTOR --part-height H]
//        report.html [compare.html ...]
// --part-shot also saves OUT_DIR/<name>-part.png: H pixels of the page from the element SELECTOR
// down (the picture in docs/study.md: --part-shot '#closed-loop' --part-height 1800).
//
// Exit 0 when every page passes, 1 otherwise (each failure on its own line), 2 for bad usage or
// a missing Chromium or playwright-core: a test that cannot run fails, it never skips.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function usage(message) {
  console.error('check_report: ' + message);
  process.exit(2);
}

const args = { out: null, minCharts: 1, minVideos: 0, chromium: '/usr/bin/chromium', partShot: null, partHeight: 1600, files: [] };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const next = () => (++i < process.argv.length ? process.argv[i] : usage(a + ' needs a value'));
  if (a === '--out') args.out = next();
  else if (a === '--min-charts') args.minCharts = Number(next());
  else if (a === '--min-videos') args.minVideos = Number(next());
  else if (a === '--chromium') args.chromium = next();
  else if (a === '--part-shot') args.partShot = next();
  else if (a === '--part-height') args.partHeight = Number(next());
  else if (a.startsWith('--')) usage('unknown option ' + a);
  else args.files.push(a);
}
if (!args.out || !args.files.length) usage('usage: check_report.js --out DIR [options] FILE.html...');
if (!fs.existsSync(args.chromium)) {
  usage(args.chromium + ' not found: install Debian\'s chromium (scripts/install-deps.sh)');
}
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  usage('playwright-core is not installed in tools/report: run scripts/install-deps.sh (' + e.message + ')');
}

// Without the background-networking flags Chromium tries to reach Google's services, which this
// machine's closed network refuses (and logs as errors).
const flags = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

async function checkPage(context, file) {
  const failures = [];
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') failures.push('console error: ' + m.text());
  });
  page.on('pageerror', (e) => failures.push('page error: ' + e.message));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith('file:') && !url.startsWith('data:') && !url.startsWith('blob:')) {
      failures.push('network request (the report must be self-contained): ' + url);
    }
  });
  const url = 'file://' + path.resolve(file);
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  } catch (e) {
    failures.push('the page script never finished (body[data-ready] not set)');
  }
  const errors = await page.$$eval('.error', (els) => els.map((e) => e.textContent));
  for (const e of errors) failures.push('section error: ' + e);

  const charts = await page.$$eval('.chart', (els) => els.map((el) => {
    const canvases = Array.from(el.querySelectorAll('canvas'));
    let painted = 0;
    for (const c of canvases) {
      if (!c.width || !c.height) continue;
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ++painted;
    }
    return { name: el.dataset.chart, canvases: canvases.length, painted: painted, width: el.clientWidth, height: el.clientHeight };
  }));
  for (const c of charts) {
    if (!c.canvases) failures.push('chart ' + c.name + ': no canvas');
    else if (c.painted < 200) failures.push('chart ' + c.name + ': nothing drawn (' + c.painted + ' painted pixels)');
  }
  if (charts.length < args.minCharts) failures.push(charts.length + ' charts, expected at least ' + args.minCharts);

  // Videos: each must load enough to show a frame, and know its duration.
  const deadline = Date.now() + 30000;
  let videos = [];
  for (;;) {
    videos = await page.$$eval('video', (els) => els.map((v) => ({ model: v.dataset.model, readyState: v.readyState, duration: v.duration, error: v.error ? v.error.code + ' ' + v.error.message : null })));
    const pending = videos.filter((v) => v.readyState < 2 && !v.error);
    if (!pending.length || Date.now() > deadline) break;
    await page.waitForTimeout(250);
  }
  for (const v of videos) {
    if (v.error) failures.push('video ' + v.model + ': error ' + v.error);
    else if (v.readyState < 2) failures.push('video ' + v.model + ': readyState ' + v.readyState + ' (no frame to show)');
    else if (!(v.duration > 0) || !Number.isFinite(v.duration)) failures.push('video ' + v.model + ': duration ' + v.duration);
  }
  if (videos.length < args.minVideos) failures.push(videos.length + ' videos, expected at least ' + args.minVideos);

  const shot = path.join(args.out, path.basename(file, '.html') + '.png');
  await page.screenshot({ path: shot, fullPage: true });
  let part = null;
  if (args.partShot) {
    const box = await page.$eval(args.partShot, (e) => {
      const r = e.getBoundingClientRect();
      return { y: r.top + window.scrollY };
    });
    part = path.join(args.out, path.basename(file, '.html') + '-part.png');
    await page.screenshot({ path: part, fullPage: true, clip: { x: 0, y: box.y, width: page.viewportSize().width, height: args.partHeight } });
  }
  await page.close();
  return { file, failures, charts, videos, shot, part };
}

(async () => {
  fs.mkdirSync(args.out, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pitlane-chromium-'));
  let context;
  let failed = 0;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium,
      headless: true,
      args: flags,
      viewport: { width: 1400, height: 1000 },
      offline: true,
    });
    for (const file of args.files) {
      const r = await checkPage(context, file);
      console.log(file + ': ' + r.charts.length + ' charts, ' + r.videos.length + ' videos' +
        (r.videos.length ? ' (' + r.videos.map((v) => v.model + ' ' + (Number.isFinite(v.duration) ? v.duration.toFixed(1) : v.duration) + ' s').join(', ') + ')' : ''));
      console.log('screenshot: ' + path.resolve(r.shot));
      if (r.part) console.log('screenshot (' + args.partShot + '): ' + path.resolve(r.part));
      for (const f of r.failures) console.log('FAIL ' + file + ': ' + f);
      failed += r.failures.length ? 1 : 0;
    }
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(failed ? failed + ' of ' + args.files.length + ' reports failed' : 'every report passed (' + args.files.length + ')');
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error('check_report: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
