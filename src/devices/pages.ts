// The two device pages, in the shared page shell: /.gatehouse/devices (enrol this device, see and
// remove yours) and /.gatehouse/device-check (prove this device to continue to an app). Their
// buttons work through the devices script (WebAuthn needs JavaScript); the page says so without it.
import type { RequestContext } from '../context.js';
import { esc, page } from '../login/html.js';
import { addScript, facts, timeHtml } from '../pages/template.js';
import type { DeviceRecord } from '../store/device-types.js';
import { aaguidName } from '../policy/aaguids.js';
import { DEVICES_SCRIPT, WEBAUTHN_BROWSER } from './browser-script.js';

const SCRIPTS = [addScript('simplewebauthn-browser', WEBAUTHN_BROWSER), addScript('devices', DEVICES_SCRIPT)];

const STATUS = '<p id="device-status" class="notice" role="status" aria-live="polite" hidden></p>';
const NO_SCRIPT = '<noscript><p class="notice error">Device checks use WebAuthn, which needs JavaScript: turn it on for this site.</p></noscript>';

export function kindOf(d: Pick<DeviceRecord, 'attachment' | 'aaguid'>): string {
  const kind = d.attachment === 'platform' ? 'Built-in authenticator' : d.attachment === 'cross-platform' ? 'Security key or phone' : 'Authenticator';
  const model = aaguidName(d.aaguid);
  return model ? `${kind} (${model})` : kind;
}

function deviceCard(d: DeviceRecord, current: string | undefined): string {
  const state = d.state === 'approved' ? 'Approved' : 'Waiting for an administrator’s approval';
  const rows: Array<[string, string]> = [
    ['Kind', esc(kindOf(d))],
    ['Status', esc(state)],
    ['Enrolled', timeHtml(d.enrolledAt)],
    ['Last verified', timeHtml(d.lastAssertionAt)],
    ['Device id', `<code>${esc(d.id)}</code>`],
  ];
  const here = d.id === current ? ' <span class="muted">(this session)</span>' : '';
  return `<h3>${esc(d.name)}${here}</h3>
${facts(rows)}
<button type="button" class="secondary" data-remove="${esc(d.id)}">Remove ${esc(d.name)}</button>`;
}

/** The enrollment form: first when the user has no device yet, after their list otherwise. */
function form(title: string, suggestedName: string): string {
  return `<h2>${title}</h2>
<form id="enroll-form">
<label for="device-name">Device name</label>
<input id="device-name" name="name" maxlength="64" required value="${esc(suggestedName)}" autocomplete="off">
<button type="submit">Enroll this device</button>
</form>`;
}

export function devicesPage(ctx: RequestContext, mine: DeviceRecord[], suggestedName: string, rd: string | null): string {
  const current = ctx.identity?.device?.id;
  const list = mine.length ? mine.map((d) => deviceCard(d, current)).join('\n') : '<p class="muted">You have no enrolled devices yet.</p>';
  const next = rd ? `<p class="lead">Enroll this device to continue to <strong>${esc(rd)}</strong>.</p>` : '';
  return page(
    ctx,
    'Your devices',
    `<div data-devices data-rd="${esc(rd ?? '')}">
<p class="lead">Apps may ask which device you use. Enroll this device once with its built-in authenticator (Touch ID,
Windows Hello) or a security key; Gatehouse then checks it with a single tap, and never sees your fingerprint or PIN.</p>
${next}${NO_SCRIPT}${STATUS}
${mine.length ? `<h2>Enrolled devices</h2>\n${list}\n${form('Enroll another device', suggestedName)}` : `${form('Enroll this device', suggestedName)}\n<h2>Enrolled devices</h2>\n${list}`}
</div>`,
    { wide: true, scripts: SCRIPTS },
  );
}

export function deviceCheckPage(ctx: RequestContext, rd: string, enrolled: number): string {
  const enrolHref = `/.gatehouse/devices?${new URLSearchParams({ rd }).toString()}`;
  const none = enrolled === 0 ? '<p class="notice">You have no enrolled device yet: enroll this one first.</p>' : '';
  return page(
    ctx,
    'Verify this device',
    `<div data-devices data-rd="${esc(rd)}">
<p class="lead">This app only lets in people on an enrolled device. Verify this device with its authenticator to continue to
<strong>${esc(rd)}</strong>.</p>
${NO_SCRIPT}${none}${STATUS}
<button type="button" id="check-button">Verify this device</button>
<p class="links"><a href="${esc(enrolHref)}">Enroll this device</a> · <a href="/.gatehouse/identity">Your identity</a></p>
</div>`,
    { scripts: SCRIPTS },
  );
}
