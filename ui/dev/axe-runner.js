// Served after env.js by the fake API with --axe: runs axe-core once the page has settled and
// appends the violations as JSON in <pre id="axe-result"> (read with chromium --dump-dom).
window.addEventListener('load', () => setTimeout(() => {
  const s = document.createElement('script');
  s.src = '/dev/axe.min.js';
  s.onload = () => window.axe.run(document).then((r) => {
    const pre = document.createElement('pre');
    pre.id = 'axe-result';
    pre.textContent = JSON.stringify(r.violations.map((v) => ({id: v.id, impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)})));
    document.body.appendChild(pre);
  });
  document.head.appendChild(s);
}, 3000));
