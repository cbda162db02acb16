// The devices pages' script, served from this origin (CSP script-src 'self'), next to the
// @simplewebauthn/browser bundle it drives. Plain ES2017, no build step: it posts JSON to the
// endpoints in endpoints.ts and runs the WebAuthn ceremony the answer describes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * @simplewebauthn/browser's own UMD bundle (global SimpleWebAuthnBrowser), read from the installed
 * package and served by the gateway itself: no CDN, so the strict CSP holds and nothing of a third
 * party runs on these pages.
 */
export const WEBAUTHN_BROWSER = readFileSync(join(createRequire(import.meta.url).resolve('@simplewebauthn/browser'), '../../dist/bundle/index.umd.min.js'), 'utf8');

export const DEVICES_SCRIPT = `(function () {
  'use strict';
  var W = window.SimpleWebAuthnBrowser;
  var root = document.querySelector('[data-devices]');
  if (!root || !W) return;
  var status = document.getElementById('device-status');
  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? 'notice error' : 'notice';
    status.hidden = false;
  }
  function post(path, body) {
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.message || j.error || 'HTTP ' + r.status);
        return j;
      });
    });
  }
  function fail(what) {
    return function (err) { say(what + ': ' + (err && err.message ? err.message : String(err)), true); };
  }
  var rd = root.getAttribute('data-rd') || '';
  var enroll = document.getElementById('enroll-form');
  if (enroll) enroll.addEventListener('submit', function (e) {
    e.preventDefault();
    var name = document.getElementById('device-name').value;
    say('Follow your browser\\u2019s prompt to register this device\\u2026');
    post('/.gatehouse/devices/options').then(function (o) {
      return W.startRegistration({ optionsJSON: o.options }).then(function (response) {
        return post('/.gatehouse/devices/enroll', { state: o.state, name: name, response: response, rd: rd });
      });
    }).then(function (d) { say(d.message); location.assign(d.next); }, fail('Enrollment failed'));
  });
  Array.prototype.forEach.call(document.querySelectorAll('button[data-remove]'), function (b) {
    b.addEventListener('click', function () {
      post('/.gatehouse/devices/remove', { id: b.getAttribute('data-remove') }).then(function () { location.reload(); }, fail('Removing failed'));
    });
  });
  var check = document.getElementById('check-button');
  if (check) check.addEventListener('click', function () {
    say('Follow your browser\\u2019s prompt to verify this device\\u2026');
    post('/.gatehouse/device-check/options').then(function (o) {
      return W.startAuthentication({ optionsJSON: o.options }).then(function (response) {
        return post('/.gatehouse/device-check/verify', { state: o.state, response: response, rd: rd });
      });
    }).then(function (d) { say(d.message); location.assign(d.next); }, fail('This device could not be verified'));
  });
})();
`;
