// The console's only script (CSP script-src 'self', no inline script), served by the console at a
// content-addressed path. Progressive enhancement: every page works without it. With it, the parts
// of a page marked data-live (the session list) are fetched again every second while the tab is
// visible and swapped in place, so a revocation made elsewhere shows within two seconds.
import { createHash } from 'node:crypto';

export const CONSOLE_SCRIPT = `(function () {
  var live = document.querySelectorAll('[data-live][id]');
  if (!live.length || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById('live-status');
  var busy = false;
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        for (var i = 0; i < live.length; i++) {
          var fresh = doc.getElementById(live[i].id);
          if (!fresh) continue;
          var el = live[i];
          el.replaceWith(fresh);
          if (window.gatehouseLocalTimes) window.gatehouseLocalTimes(fresh);
        }
        live = document.querySelectorAll('[data-live][id]');
        if (status) status.textContent = 'Live: updated ' + new Date().toLocaleTimeString();
      })
      .catch(function (err) { if (status) status.textContent = 'Live updates paused: ' + err.message; })
      .then(function () { busy = false; });
  }
  if (status) status.textContent = 'Live: this list updates every second.';
  setInterval(refresh, 1000);
})();
`;

export const CONSOLE_SCRIPT_PATH = `/console/assets/console-${createHash('sha256').update(CONSOLE_SCRIPT).digest('hex').slice(0, 12)}.js`;
