// Screenshots of the confirmation dialogs, which need clicks: drives headless Chromium over
// the DevTools protocol (node --experimental-websocket on Node 20). The fake API must be
// running: node --experimental-websocket dev/shoot-dialogs.mjs http://127.0.0.1:5174
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const base = process.argv[2] ?? 'http://127.0.0.1:5174';
const out = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const port = 9333;
const chrome = spawn(process.env.CHROMIUM ?? 'chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--remote-debugging-port=${port}`,
  '--window-size=1400,1000', 'about:blank',
], { stdio: 'ignore' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 15000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
    try {
      const v = await fn();
      if (v) return v;
    } catch { /* not yet */ }
  }
  throw new Error(`timed out waiting for ${what}`);
}

try {
  const targets = await until('DevTools', async () => (await fetch(`http://127.0.0.1:${port}/json`)).json());
  const ws = new WebSocket(targets.find((t) => t.type === 'page').webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener('open', r));
  let id = 0;
  const pending = new Map();
  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg);
  });
  const send = (method, params = {}) => new Promise((r) => { pending.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
  const js = async (expr) => (await send('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true })).result?.result?.value;
  const click = (label) => js(`(() => { const b = [...document.querySelectorAll('button')].find((x) => x.textContent.trim() === ${JSON.stringify(label)}); if (!b) return false; b.click(); return true; })()`);
  const shot = async (name) => {
    const { result } = await send('Page.captureScreenshot', { format: 'png' });
    writeFileSync(`${out}${name}.png`, Buffer.from(result.data, 'base64'));
    console.log(`${out}${name}.png`);
  };
  const has = (text) => js(`document.body.innerText.includes(${JSON.stringify(text)})`);

  await send('Page.enable');
  await send('Page.navigate', { url: `${base}/#plans` });
  await until('plans', () => has('Switch to Dev Pool'));
  await click('Switch to Dev Pool');
  await until('simulate result', () => has('would no longer fit'));
  await sleep(500);
  await shot('dialog-downgrade');
  await click('Keep current');
  await send('Page.navigate', { url: `${base}/#addons` });
  await until('addons', () => has('Remove 1'));
  await click('Add Another');
  await until('add dialog', () => has('Add Turbo x1'));
  await sleep(500);
  await shot('dialog-addon-add');
  await click('Keep current');
  await click('Remove 1');
  await until('fits', () => has('Current usage fits'));
  await sleep(500);
  await shot('dialog-addon-remove');
  await click('Keep current');
  await send('Page.navigate', { url: `${base}/#subscription` });
  await until('subscription', () => has('Cancel Subscription'));
  await click('Cancel Subscription');
  await until('cancel modal', () => has('Cancel the subscription?'));
  await sleep(500);
  await shot('dialog-cancel');
  await click('Keep subscription');
  await click('Sign out');
  await until('signed-out page', () => has('You are signed out'));
  await sleep(500);
  await shot('signed-out');
  ws.close();
} finally {
  chrome.kill();
}
