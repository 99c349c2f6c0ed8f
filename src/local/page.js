// The cab display: renders the box's snapshots (server-sent events), sounds unacknowledged
// alarms, and sends acknowledgements and trip changes with the PIN. Plain browser JavaScript
// served by the box: no build step, no CDN, works with no internet.
'use strict';

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const num = (v) => (v === null || v === undefined ? '--' : v.toFixed(1));
const hhmm = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const ago = (iso, nowMs) => {
  const min = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 60000));
  return min < 1 ? 'just now' : min < 90 ? `${min} min ago` : `${Math.round(min / 60)} h ago`;
};
/** A snapshot older than this means the box or the link stopped: say so rather than show old numbers as live. */
const STALE_MS = 5000;
const LIMIT_WORDS = [['low', 'min'], ['high', 'max'], ['criticalHigh', 'critical'], ['criticalLow', 'critical min']];
const TYPE_WORDS = {
  temperature: 'TEMPERATURE ALARM', 'excursion-budget': 'EXCURSION BUDGET SPENT', 'probe-fault': 'PROBE FAULT', 'gps-lost': 'GPS LOST',
  'uplink-offline': 'NO CONNECTION TO CLOUD', 'journal-full': 'STORAGE FILLING UP', 'journal-failed': 'STORAGE FAILED', 'clock-unsynced': 'CLOCK NOT SET', 'entry-refused': 'ENTRY REFUSED',
};

let last = null;
let lastAt = 0;
let chart = { stepMs: 30000, windowMs: 4 * 3600000, series: {} };

// ---- sound ------------------------------------------------------------------------------------
// Browsers only allow sound after a tap; until then the header asks for one.
let audio = null;
let beeping = false;
function enableSound() {
  if (!audio) audio = new AudioContext();
  audio.resume().then(updateSoundButton, updateSoundButton);
}
function updateSoundButton() {
  $('sound').hidden = audio !== null && audio.state === 'running';
}
function tone(freq, at, dur) {
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = 'square';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.25, at);
  gain.gain.setValueAtTime(0, at + dur);
  osc.connect(gain).connect(audio.destination);
  osc.start(at);
  osc.stop(at + dur + 0.02);
}
/** Two-tone beep every second while an alarm waits; faster for critical ones. */
function soundLoop() {
  if (beeping && audio && audio.state === 'running') {
    const t = audio.currentTime;
    const critical = last && waiting(last).some((a) => a.severity === 'critical');
    tone(1000, t, 0.18);
    tone(750, t + 0.25, 0.18);
    if (critical) tone(1000, t + 0.5, 0.18);
    if (navigator.vibrate) navigator.vibrate(200);
  }
  setTimeout(soundLoop, 1000);
}

// ---- rendering --------------------------------------------------------------------------------
const waiting = (s) => s.alarms.filter((a) => a.ackedBy === undefined);

function renderGate(s) {
  const g = s.gate;
  $('gate').hidden = !g.doNotUnload;
  if (g.doNotUnload) {
    const e = g.lastEntry;
    $('gate-where').textContent = e ? `Entry refused at ${e.siteName} · ${hhmm(e.at)}` : 'Entry refused';
    $('gate-reasons').replaceChildren(...(e ? evidence(e) : [g.message || '']).map((r) => el('li', '', r)));
  }
  const e = g.lastEntry;
  $('entry').textContent = e && !g.doNotUnload ? `Last gate: ${e.siteName} ${hhmm(e.at)} · ${e.refuse ? 'refused' : 'admitted, cargo in range'}` : '';
}

/** The gate's evidence in the driver's words and local times; the engine's sentences when there is none. */
function evidence(entry) {
  const ev = entry.evidence;
  if (!ev || (ev.alarms.length === 0 && ev.budgets.length === 0)) return entry.reasons;
  return [
    ...ev.alarms.map((a) => {
      const peak = typeof a.data.peak === 'number' ? `, peak ${a.data.peak.toFixed(1)} °C` : '';
      const state = a.clearedAt ? `back in range at ${hhmm(a.clearedAt)}` : a.active ? 'still out of range on arrival' : 'back in range on arrival';
      return `${a.message} · raised ${hhmm(a.raisedAt)}${peak} · ${state}`;
    }),
    ...ev.budgets.map((b) => `${b.name}: ${b.excursionMin} min out of range this trip, budget ${b.budgetMin} min`),
  ];
}

/** An entry refusal is told in full by the DO NOT UNLOAD panel; its alarm line only names the gate. */
const alarmText = (a) => (a.type === 'entry-refused' && a.data.gate ? `Entry refused at ${a.data.gate.siteName}` : a.message);

let alarmsKey = '';
function renderAlarms(s) {
  // Rebuilt only when the alarms change, so a button is never replaced under a finger.
  const key = JSON.stringify(s.alarms.map((a) => [a.id, a.ackedBy, a.active, a.message]));
  if (key === alarmsKey) return refreshAges(s);
  alarmsKey = key;
  const blocks = [...waiting(s), ...s.alarms.filter((a) => a.ackedBy !== undefined)].map((a) => {
    const acked = a.ackedBy !== undefined;
    const div = el('div', `alarm ${acked ? 'acked' : 'waiting'} ${a.severity}`);
    div.dataset.alarmId = a.id;
    div.dataset.raisedAt = a.raisedAt;
    const what = el('div', 'what');
    if (acked) {
      what.append(el('span', 'msg', `Acknowledged by ${a.ackedBy} at ${hhmm(a.ackedAt)}: ${alarmText(a)}${a.active ? ' · still active' : ''}`));
    } else {
      what.append(el('div', 'kind', `⚠ ${a.severity.toUpperCase()} · ${TYPE_WORDS[a.type] || a.type}`), el('div', 'msg', alarmText(a)), el('div', 'since', ''));
      const btn = el('button', 'btn ack', 'ACKNOWLEDGE');
      btn.type = 'button';
      btn.addEventListener('click', () => askPin('Acknowledge alarm', alarmText(a), `api/alarms/${encodeURIComponent(a.id)}/ack`));
      div.append(what, btn);
      return div;
    }
    div.append(what);
    return div;
  });
  $('alarm-banner').replaceChildren(...blocks);
  refreshAges(s);
}
function refreshAges(s) {
  const now = Date.parse(s.ts);
  for (const div of $('alarm-banner').querySelectorAll('.alarm.waiting')) {
    div.querySelector('.since').textContent = `since ${hhmm(div.dataset.raisedAt)} (${ago(div.dataset.raisedAt, now)})`;
  }
}

const cards = new Map();
function card(c) {
  let k = cards.get(c.id);
  if (k) return k;
  const root = el('section', 'comp');
  root.dataset.compartment = c.id;
  const head = el('div', 'comp-head');
  k = { root, name: el('h2'), state: el('span', 'state'), detail: el('div', 'state-detail'), temp: el('div', 'temp'), limits: el('div', 'limits'), probes: el('div', 'probes'), trip: el('div', 'tripstats'), chart: svg('svg', { class: 'chart', viewBox: '0 0 600 120', preserveAspectRatio: 'none', role: 'img' }), axis: el('div', 'chart-axis') };
  head.append(k.name, k.state);
  root.append(head, k.detail, k.temp, k.limits, k.chart, k.axis, k.probes, k.trip);
  cards.set(c.id, k);
  return k;
}

/** The engine's display state in the driver's words; nothing is judged here (src/rules/display-state.ts). */
function stateText(d) {
  const limit = (t) => `${t.direction} ${num(t.limit)} °C${t.channel.includes('/') ? ` (probe ${t.channel.split('/')[1]})` : ''}`;
  switch (d.kind) {
    case 'pending':
      return { cls: `pending ${d.severity}`, word: d.severity === 'critical' ? 'CRITICAL PENDING' : 'ALARM PENDING', detail: `${limit(d)} since ${hhmm(d.since)} · alarm at ${hhmm(d.firesAt)} if still out` };
    case 'alarm':
      return { cls: `alarm ${d.severity}`, word: d.severity === 'critical' ? 'OUT OF RANGE' : 'WARNING', detail: `${limit(d)} · back in range ${d.direction === 'above' ? 'below' : 'above'} ${num(d.clearsPast)} °C` };
    case 'clearing':
      return { cls: `clearing ${d.severity}`, word: 'CLEARING', detail: `back in range since ${hhmm(d.since)} · clears at ${hhmm(d.clearsAt)} if it stays` };
    case 'suppressed': {
      const cause = (w) => (w.cause === 'door' ? (w.openEnded ? 'door open' : 'door closed') : w.openEnded ? 'defrost running' : 'defrost');
      const by = d.by.map((w) => `${cause(w)} · suppressed until ${hhmm(w.until)}${w.openEnded ? ' at the latest' : ''}`);
      const held = d.held ? [`${limit(d.held)}: alarm at ${hhmm(d.held.firesAt)}${d.held.openEnded ? ' at the latest' : ''} if still out`] : [];
      return { cls: 'suppressed', word: `SUPPRESSED (${d.by.map((w) => w.cause).join(', ')})`, detail: [...by, ...held].join(' · ') };
    }
    case 'ok':
      return { cls: 'ok', word: 'OK', detail: '' };
    case 'unknown':
      return { cls: 'unknown', word: 'NO READING', detail: '' };
    default:
      // A state this page does not know yet (a newer box): shown by name, never as OK.
      return { cls: 'unknown', word: String(d.kind).toUpperCase(), detail: '' };
  }
}

function renderCompartments(s) {
  const main = $('comps');
  const roots = s.compartments.map((c) => {
    const k = card(c);
    const st = stateText(c.display);
    k.root.className = `comp ${st.cls}`;
    k.name.textContent = c.name;
    k.state.textContent = st.word;
    k.detail.textContent = st.detail;
    k.temp.replaceChildren(document.createTextNode(num(c.value)), el('span', 'unit', '°C'));
    k.limits.textContent = LIMIT_WORDS.filter(([f]) => c.limits[f] !== undefined).map(([f, w]) => `${w} ${num(c.limits[f])} °C`).join(' · ');
    k.probes.textContent = 'Probes: ' + c.probes.map((p) => `${p.id} ${p.quality === 'good' ? num(p.value) + ' °C' : p.quality || 'no reading'}`).join(' · ');
    const t = s.trip && s.trip.compartments.find((x) => x.id === c.id);
    k.trip.textContent = t
      ? `This trip: min ${num(t.min)} · max ${num(t.max)} · MKT ${num(t.mkt)} °C · ${t.outOfRangeMin.toFixed(1)} min out of range` + (t.budgetMin !== undefined ? ` (budget ${t.excursionMin.toFixed(1)}/${t.budgetMin} min)` : '')
      : '';
    drawChart(k, c);
    return k.root;
  });
  if (roots.some((r, i) => main.children[i] !== r) || main.children.length !== roots.length) main.replaceChildren(...roots);
}

function renderHeader(s) {
  $('gw').textContent = s.gatewayId;
  $('clock').textContent = hhmm(s.ts);
  const tripBtn = $('trip-button');
  tripBtn.hidden = !s.display.pinSet;
  if (s.trip) {
    $('trip').textContent = `Trip since ${hhmm(s.trip.startedAt)}`;
    $('trip').title = `${s.trip.id}, started by ${s.trip.startedBy}`;
    tripBtn.textContent = 'END TRIP';
  } else {
    $('trip').textContent = 'No trip running';
    tripBtn.textContent = 'START TRIP';
  }
  const gps = s.health.find((h) => h.kind === 'gps');
  setPill($('gps'), gps ? (gps.state === 'ok' ? 'ok' : gps.state === 'starting' ? 'unknown' : 'bad') : 'unknown', gps ? `GPS ${gps.state === 'ok' ? 'fix' : gps.state}` : 'No GPS');
  const up = s.health.find((h) => h.kind === 'uplink');
  setPill($('uplink'), up ? (up.state === 'ok' ? 'ok' : 'warn') : 'unknown', up ? (up.state === 'ok' ? 'Cloud online' : 'Cloud offline · data kept on box') : 'Cloud ?');
  const p = s.position;
  $('pos').textContent = p ? `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)} · ${((p.speed || 0) * 3.6).toFixed(0)} km/h` : 'No position yet';
  $('report-link').hidden = !s.display.lastReport;
  if (s.display.lastReport) $('report-link').textContent = `Trip report ${hhmm(s.display.lastReport.endedAt)}${s.display.lastReport.clean ? '' : ' · OUT OF RANGE'}`;
}

/** The archived trips (newest first), fetched when the list is opened; each opens its printable report. */
async function loadTrips() {
  const list = $('trip-list');
  try {
    const r = await fetch('api/trips', { cache: 'no-store' });
    const { trips } = await r.json();
    list.replaceChildren(
      ...trips.map((t) => {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = `report?trip=${encodeURIComponent(t.tripId)}`;
        a.target = '_blank';
        a.textContent = `${t.startedAt.slice(0, 10)} ${hhmm(t.startedAt)}-${hhmm(t.endedAt)} ${t.clean === null ? 'no report' : t.clean ? 'in range' : 'OUT OF RANGE'}`;
        a.title = t.tripId;
        li.append(a);
        return li;
      }),
    );
    if (trips.length === 0) list.textContent = 'No trips archived yet';
  } catch {
    list.textContent = 'Trip list not available';
  }
}
$('past-trips').addEventListener('toggle', () => {
  if ($('past-trips').open) void loadTrips();
});

function setPill(e, cls, text) {
  e.className = `pill ${cls}`;
  e.textContent = text;
}

function render(s) {
  last = s;
  lastAt = Date.now();
  document.body.classList.remove('stale');
  $('stale').hidden = true;
  renderGate(s);
  renderAlarms(s);
  renderHeader(s);
  addToChart(s);
  renderCompartments(s);
  beeping = waiting(s).length > 0;
  setPill($('live'), 'ok', 'live');
}

// ---- chart ------------------------------------------------------------------------------------
function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** Same buckets as the box (min and max per step), so live values join the fetched history seamlessly. */
function addToChart(s) {
  const t = Date.parse(s.ts);
  const bucket = t - (t % chart.stepMs);
  for (const c of s.compartments) {
    if (c.value === null) continue;
    const pts = (chart.series[c.id] = chart.series[c.id] || []);
    const lastPt = pts[pts.length - 1];
    if (lastPt && lastPt[0] === bucket) {
      lastPt[1] = Math.min(lastPt[1], c.value);
      lastPt[2] = Math.max(lastPt[2], c.value);
    } else if (!lastPt || bucket > lastPt[0]) pts.push([bucket, c.value, c.value]);
    while (pts.length && pts[0][0] < t - chart.windowMs) pts.shift();
  }
}

function drawChart(k, c) {
  let pts = chart.series[c.id] || [];
  const now = last ? Date.parse(last.ts) : Date.now();
  // A box that started recently shows what it has (at least 10 min) rather than an empty window.
  const spanMs = Math.min(chart.windowMs, Math.max(pts.length ? now - pts[0][0] : 0, 600000));
  const from = now - spanMs;
  const limits = Object.entries(c.limits);
  const values = [...pts.flatMap((p) => [p[1], p[2]]), ...limits.map(([, v]) => v)];
  const lo = Math.floor(Math.min(...values, Infinity) - 1);
  const hi = Math.ceil(Math.max(...values, -Infinity) + 1);
  const x = (t) => ((t - from) / spanMs) * 600;
  const y = (v) => 120 - ((v - lo) / Math.max(hi - lo, 1)) * 120;
  const nodes = limits.map(([name, v]) => svg('line', { class: `lim ${name}`, x1: 0, x2: 600, y1: y(v), y2: y(v) }));
  if (pts.length > 0) {
    // The line runs on to the value shown now, so a new bucket is visible at once.
    if (c.value !== null) pts = [...pts, [now, c.value, c.value]];
    const band = pts.map((p) => `${x(p[0])},${y(p[2])}`).concat(pts.slice().reverse().map((p) => `${x(p[0])},${y(p[1])}`));
    nodes.unshift(svg('polygon', { class: 'band', points: band.join(' ') }));
    nodes.push(svg('polyline', { class: 'line', points: pts.map((p) => `${x(p[0])},${y(p[2])}`).join(' ') }));
  }
  k.chart.replaceChildren(...nodes);
  k.chart.setAttribute('aria-label', `${c.name}: temperatures of the last ${Math.round(spanMs / 60000)} minutes`);
  const min = Math.round(spanMs / 60000);
  k.axis.replaceChildren(el('span', '', min >= 90 ? `−${Math.round(min / 60)} h` : `−${min} min`), el('span', '', `scale ${lo} to ${hi} °C`), el('span', '', 'now'));
}

async function loadHistory() {
  try {
    const r = await fetch('api/history', { cache: 'no-store' });
    if (!r.ok) return;
    const h = await r.json();
    chart = { stepMs: h.stepMs, windowMs: h.windowMs, series: h.compartments };
    if (last) render(last);
  } catch {
    // The live feed still works without the past hours; the next reconnect tries again.
  }
}

// ---- PIN and actions --------------------------------------------------------------------------
let action = null;
/** `shipment`: the dialog also asks what the trip carries (trip start). */
function askPin(title, what, url, shipment = false) {
  action = url;
  $('shipment').hidden = !shipment;
  for (const id of ['ship-bol', 'ship-order', 'ship-sscc', 'ship-lots']) $(id).value = '';
  $('pin-title').textContent = title;
  $('pin-what').textContent = what;
  $('pin-input').value = '';
  $('pin-error').textContent = '';
  $('pin-dialog').showModal();
  $('pin-input').focus();
}

async function submitPin() {
  const pin = $('pin-input').value;
  if (!/^[0-9]{1,12}$/.test(pin)) {
    $('pin-error').textContent = 'Enter the PIN with the digits';
    return;
  }
  $('pin-ok').disabled = true;
  try {
    const shipment = $('shipment').hidden ? undefined : shipmentFields();
    const r = await fetch(action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin, ...(shipment && { shipment }) }) });
    const body = await r.json().catch(() => ({}));
    if (r.ok) {
      $('pin-dialog').close();
      return;
    }
    $('pin-input').value = '';
    $('pin-error').textContent = r.status === 401 ? `Wrong PIN. ${body.details ? body.details.attemptsLeft + ' tries left.' : ''}` : body.error || `Refused (${r.status})`;
  } catch {
    $('pin-error').textContent = 'No connection to the box: try again';
  } finally {
    $('pin-ok').disabled = false;
  }
}

/** The filled shipment fields as the API takes them (the box checks them and says what is wrong); undefined if all are empty. */
function shipmentFields() {
  const text = (id) => $(id).value.trim();
  const list = (id) => text(id).split(/[\s,]+/).filter(Boolean);
  const s = {};
  if (text('ship-bol')) s.billOfLading = text('ship-bol');
  if (text('ship-order')) s.order = text('ship-order');
  if (list('ship-sscc').length) s.sscc = list('ship-sscc');
  if (list('ship-lots').length) s.lots = list('ship-lots');
  return Object.keys(s).length ? s : undefined;
}

function setupPinPad() {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '⌫', '0', 'C'];
  $('keypad').replaceChildren(...keys.map((k) => {
    const b = el('button', '', k);
    b.type = 'button';
    b.addEventListener('click', () => {
      const input = $('pin-input');
      input.value = k === '⌫' ? input.value.slice(0, -1) : k === 'C' ? '' : (input.value + k).slice(0, 12);
    });
    return b;
  }));
  $('pin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submitPin();
  });
  $('pin-cancel').addEventListener('click', () => $('pin-dialog').close());
  $('trip-button').addEventListener('click', () => {
    if (!last) return;
    if (last.trip) askPin('End trip', `Trip since ${hhmm(last.trip.startedAt)}: the report is made at once`, 'api/trip/end');
    else askPin('Start trip', 'Starts recording the trip report', 'api/trip/start', true);
  });
}

// ---- live feed --------------------------------------------------------------------------------
function connect() {
  const es = new EventSource('events');
  es.addEventListener('open', loadHistory);
  es.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
  es.onerror = () => setPill($('live'), 'bad', 'no connection to the box');
}

setInterval(() => {
  if (!last || Date.now() - lastAt < STALE_MS) return;
  document.body.classList.add('stale');
  $('stale').hidden = false;
  $('stale').textContent = `Not updated for ${Math.round((Date.now() - lastAt) / 1000)} s: these values may be old. Check the box and its Wi-Fi.`;
}, 1000);

document.addEventListener('click', () => audio === null || audio.state !== 'running' ? enableSound() : undefined);
$('sound').addEventListener('click', enableSound);
$('sound').hidden = false;
setupPinPad();
connect();
soundLoop();
