// fieldsync hub dashboard: plain JavaScript, no build step, no network
// access beyond the hub that serves it. It fetches /dash/* as JSON and
// refetches whenever /dash/events says something changed.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const HOUR = 3600;

  const state = {
    lang: localStorage.getItem('fieldsync.lang') === 'en' ? 'en' : 'vi',
    labels: {},
    tab: 'overview',
    sort: localStorage.getItem('fieldsync.sort') || 'behind',
    all: { conflicts: false, duplicates: false },
    snap: null, // /dash/snapshot
    conflicts: null, // /dash/conflicts
    duplicates: null, // /dash/duplicates
    fetchedAt: 0, // Date.now() of the last snapshot
    communeNames: {},
    missing: null, // /dash/residents of the commune whose list is open
  };

  // ---------------------------------------------------------------- labels

  // t returns the label key in the current language with {name} replaced.
  function t(key, vars) {
    const l = state.labels[key];
    let s = l ? (l[state.lang] || l.vi) : key;
    if (vars) {
      for (const [k, v] of Object.entries(vars)) s = s.split('{' + k + '}').join(String(v));
    }
    return s;
  }
  // tOr returns the label if there is one, else the fallback (data values
  // such as unknown tiers or reason codes are shown as they are).
  function tOr(key, fallback, vars) { return state.labels[key] ? t(key, vars) : fallback; }

  function applyStatic() {
    document.documentElement.lang = state.lang;
    document.title = 'fieldsync · ' + t('app.title');
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  }

  // ---------------------------------------------------------------- formats

  const locale = () => (state.lang === 'vi' ? 'vi-VN' : 'en-GB');
  const fmtInt = (n) => new Intl.NumberFormat(locale()).format(n || 0);
  const fmtPct = (x) => new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(x);
  function fmtBytes(n) {
    if (!n) return '0 B';
    if (n < 1024) return fmtInt(n) + ' B';
    const nf = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 });
    if (n < 1024 * 1024) return nf.format(n / 1024) + ' KB';
    return nf.format(n / 1024 / 1024) + ' MB';
  }
  function fmtRate(bytesPerSec) {
    if (!bytesPerSec) return '—';
    const kbit = (bytesPerSec * 8) / 1000;
    const nf = new Intl.NumberFormat(locale(), { maximumFractionDigits: kbit < 10 ? 1 : 0 });
    return kbit >= 1000 ? nf.format(kbit / 1000) + ' Mbit/s' : nf.format(kbit) + ' kbit/s';
  }
  function fmtDuration(sec) {
    sec = Math.round(sec);
    if (sec < 60) return t('dur.s', { n: Math.max(sec, 1) });
    if (sec < HOUR) return t('dur.m', { n: Math.round(sec / 60) });
    if (sec < 24 * HOUR) return t('dur.h', { h: Math.floor(sec / HOUR), m: Math.floor((sec % HOUR) / 60) });
    return t('dur.d', { d: Math.floor(sec / 86400), h: Math.floor((sec % 86400) / HOUR) });
  }
  // A Go zero time (year 1) means "never".
  const isNever = (ts) => !ts || Date.parse(ts) < Date.UTC(2000, 0, 1);
  // serverNow is the hub's clock now: relative times do not depend on the
  // browser's clock being right.
  function serverNow() {
    if (!state.snap) return Date.now();
    return Date.parse(state.snap.time) + (Date.now() - state.fetchedAt);
  }
  const ageSec = (ts) => (isNever(ts) ? Infinity : Math.max(0, (serverNow() - Date.parse(ts)) / 1000));
  function fmtAgo(ts) {
    const s = ageSec(ts);
    if (s === Infinity) return t('time.never');
    if (s < 10) return t('time.just_now');
    if (s < 60) return t('time.s_ago', { n: Math.floor(s) });
    if (s < HOUR) return t('time.m_ago', { n: Math.floor(s / 60) });
    if (s < 48 * HOUR) return t('time.h_ago', { n: Math.floor(s / HOUR) });
    return t('time.d_ago', { n: Math.floor(s / 86400) });
  }
  function fmtDate(d) { // "1985-03-12" → "12/03/1985" (as officers write it)
    if (!d) return '';
    const p = d.split('-');
    return p.reverse().join('/');
  }
  function fmtDateTime(ts) {
    if (isNever(ts)) return '';
    const d = new Date(ts);
    const pad = (n) => String(n).padStart(2, '0');
    return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const short = (hex, n = 8) => (hex || '').slice(0, n);
  const shortEntry = (id) => { const [o, s] = String(id || '').split(':'); return s ? short(o) + '…:' + s : id; };

  // ---------------------------------------------------------------- DOM

  // h builds an element: h('td', {class: 'num'}, 'text', child, ...).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('data-') || k === 'title' || k === 'type' || k === 'placeholder' || k === 'maxlength' || k === 'colspan' || k === 'role') el.setAttribute(k, v);
      else el[k] = v;
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }
  function replace(el, ...children) { el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined)); }

  function bar(fraction) {
    const b = h('span', { class: 'bar' + (fraction < 0.5 ? ' low' : '') }, h('span'));
    b.firstChild.style.width = Math.min(100, Math.max(0, fraction * 100)).toFixed(1) + '%';
    return b;
  }
  function badge(cls, text, title) { return h('span', { class: 'badge ' + cls, title }, text); }
  const linkBadge = (link) => badge(link, tOr('link.' + link, link));

  // sparkline draws what the peer still has to send (filled line) and what
  // this hub still has to send it (dashed), oldest sample first.
  function sparkline(history) {
    if (!history || history.length < 2) return h('span', { class: 'muted' }, '—');
    const w = 110, ht = 24, pad = 2;
    const inc = history.map((p) => p.incoming || 0);
    const out = history.map((p) => p.entries || 0);
    const top = Math.max(1, ...inc, ...out);
    const x = (i) => pad + (i * (w - 2 * pad)) / (history.length - 1);
    const y = (v) => ht - pad - (v * (ht - 2 * pad)) / top;
    const pts = (vals) => vals.map((v, i) => x(i).toFixed(1) + ',' + y(v).toFixed(1)).join(' ');
    const svg = s('svg', { class: 'spark', width: w, height: ht, viewBox: `0 0 ${w} ${ht}`, role: 'img' });
    svg.append(s('polygon', { class: 'area', points: `${x(0)},${ht - pad} ${pts(inc)} ${x(inc.length - 1)},${ht - pad}` }));
    svg.append(s('polyline', { class: 'out', points: pts(out) }));
    svg.append(s('polyline', { class: 'in', points: pts(inc) }));
    const title = s('title', {});
    title.textContent = `${t('col.to_receive')}: ${fmtInt(inc[inc.length - 1])} · max ${fmtInt(Math.max(...inc))}; ${t('col.to_send')}: ${fmtInt(out[out.length - 1])}`;
    svg.prepend(title);
    return svg;
  }

  let toastTimer = null;
  function toast(msg, bad) {
    const el = $('toast');
    el.textContent = msg;
    el.className = 'toast' + (bad ? ' bad' : '');
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, bad ? 8000 : 4000);
  }

  // ---------------------------------------------------------------- data

  class LoginRequired extends Error {}

  async function getJSON(path) {
    const r = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 401) throw new LoginRequired();
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.status + ' ' + r.statusText);
    return r.json();
  }

  let inflight = false, again = false, timer = null;
  // schedule coalesces refresh requests (events, clicks, timers).
  function schedule(delay = 100) {
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, delay);
  }
  async function refresh() {
    if (inflight) { again = true; return; }
    inflight = true;
    try {
      // The open tab's queue in full; the other's count only (its badge).
      const q = (kind) => '/dash/' + kind + '?all=' + (state.all[kind] ? 1 : 0) + (state.tab === kind ? '' : '&limit=0');
      const [snap, conflicts, duplicates] = await Promise.all([getJSON('/dash/snapshot'), getJSON(q('conflicts')), getJSON(q('duplicates'))]);
      state.snap = snap;
      state.fetchedAt = Date.now();
      state.conflicts = conflicts;
      state.duplicates = duplicates;
      state.communeNames = {};
      for (const c of snap.communes) state.communeNames[c.code] = c.name;
      if (state.missing) state.missing = await getJSON('/dash/residents?category=missing&commune=' + encodeURIComponent(state.missing.commune));
      showLogin(false);
      render();
    } catch (e) {
      if (e instanceof LoginRequired) showLogin(true);
      else toast(t('msg.load_failed', { m: e.message }), true);
    } finally {
      inflight = false;
      if (again) { again = false; schedule(); }
    }
  }

  function showLogin(on) {
    $('login').hidden = !on;
    for (const p of document.querySelectorAll('.page')) p.hidden = on || p.id !== 'page-' + state.tab;
    if (on && events) { events.close(); events = null; setLive(false); }
  }

  // ---------------------------------------------------------------- live

  let events = null;
  function setLive(on) {
    $('live').className = 'live ' + (on ? 'on' : 'off');
    $('live-text').textContent = t(on ? 'live.on' : 'live.off');
  }
  function connect() {
    events = new EventSource('/dash/events');
    events.addEventListener('open', () => setLive(true));
    events.addEventListener('change', () => { setLive(true); schedule(); });
    events.addEventListener('error', () => {
      setLive(false);
      if (events && events.readyState === EventSource.CLOSED) { // refused (e.g. 401/503): retry later
        events = null;
        setTimeout(() => { if (!events && $('login').hidden) connect(); schedule(); }, 5000);
      }
    });
  }

  // ---------------------------------------------------------------- render

  function render() {
    if (!state.snap) return;
    renderHeader();
    renderTabs();
    if (state.tab === 'overview') renderOverview();
    if (state.tab === 'conflicts') renderConflicts();
    if (state.tab === 'duplicates') renderDuplicates();
    $('updated').textContent = t('updated', { t: fmtAgo(state.snap.time) });
  }

  function queueName(level) {
    if (!level) return '';
    if (level === 'province') return t('queue.province');
    if (level.startsWith('district:')) return t('queue.district', { u: level.slice(9) });
    return level;
  }

  function renderHeader() {
    const hub = state.snap.hub;
    $('hub-name').textContent = hub.name || hub.unit;
    const d = state.snap.districts.find((x) => x.code === hub.unit);
    $('hub-tier').textContent = tOr('tier.' + hub.tier, hub.tier) + ' · ' + (d && d.name !== d.code ? d.name + ' (' + hub.unit + ')' : hub.unit);
    $('hub-entries').textContent = fmtInt(hub.entries);
    $('hub-origins').textContent = '(' + fmtInt(hub.origins) + ' ' + t('hdr.origins') + ')';
    $('hub-digest').textContent = short(hub.digest, 12);
    $('hub-digest').title = hub.digest;
    $('hub-queue').textContent = queueName(hub.queue);
  }

  function renderTabs() {
    for (const b of document.querySelectorAll('.tab')) b.setAttribute('aria-selected', String(b.dataset.tab === state.tab));
    for (const kind of ['conflicts', 'duplicates']) {
      const n = state[kind] ? state[kind].total : 0;
      const el = $('count-' + kind);
      el.textContent = fmtInt(n);
      el.className = 'count' + (n > 0 ? ' hot' : '');
    }
  }

  // communeState says how far behind a commune is: level "bad", "warn",
  // "ok" or "idle" (no device), and the words for it.
  function communeState(c) {
    if (!c.devices.length) return { level: 'idle', rank: 3, text: t('status.no_devices') };
    const oldest = ageSec(c.oldest_contact);
    const failing = c.devices.some((d) => d.link === 'failing');
    if (c.pending > 0) {
      return { level: failing || oldest > 6 * HOUR ? 'bad' : 'warn', rank: failing || oldest > 6 * HOUR ? 0 : 1, text: t('status.behind', { n: fmtInt(c.pending) }) };
    }
    if (oldest === Infinity) return { level: 'bad', rank: 0, text: t('status.never') };
    if (oldest > HOUR) return { level: oldest > 6 * HOUR ? 'bad' : 'warn', rank: oldest > 6 * HOUR ? 0 : 1, text: t('status.stale', { t: fmtDuration(oldest) }) };
    return { level: 'ok', rank: 2, text: t('status.ok') };
  }

  function completeness(c) { return c.expected > 0 ? c.enrolled / c.expected : null; }

  function sortedCommunes() {
    const cs = state.snap.communes.map((c) => ({ c, st: communeState(c) }));
    const byCode = (a, b) => a.c.code.localeCompare(b.c.code);
    if (state.sort === 'code') return cs.sort(byCode);
    if (state.sort === 'completeness') {
      const k = (x) => (completeness(x.c) === null ? 2 : completeness(x.c));
      return cs.sort((a, b) => k(a) - k(b) || byCode(a, b));
    }
    return cs.sort((a, b) => a.st.rank - b.st.rank || b.c.pending - a.c.pending ||
      ageSec(b.c.oldest_contact) - ageSec(a.c.oldest_contact) || byCode(a, b));
  }

  function renderOverview() {
    const snap = state.snap;
    const sorted = sortedCommunes();
    renderAlarms(snap.alarms);
    renderBundles(snap.bundles || []);
    renderCards(snap, sorted);
    renderDistricts(snap.districts);
    renderCommunes(sorted);
    renderPeers(snap.peers);
  }

  function renderAlarms(alarms) {
    const box = $('alarms');
    if (!alarms.length) { replace(box); return; }
    replace(box, h('div', { class: 'alarms', role: 'alert' },
      h('h2', { text: t('sec.alarms') + ' (' + alarms.length + ')' }),
      h('ul', {}, alarms.map((a) => h('li', {},
        h('b', { text: tOr('alarm.' + a.kind, a.kind) }), ' — ',
        a.commune ? t('alarm.where', { c: a.commune, d: a.device }) + ', ' : '',
        a.origin ? h('code', { text: short(a.origin) + (a.seq ? ':' + a.seq : '') }) : '', ' ',
        a.peer ? t('via', { p: a.peer }) + ' · ' : '',
        t('alarm.count', { n: a.count }), ' · ', h('span', { class: 'muted', text: a.detail }))))));
  }

  function renderBundles(bundles) {
    const box = $('bundles');
    if (!box) return;
    if (!bundles.length) { replace(box); return; }
    replace(box, h('div', { class: 'bundles' },
      h('h2', { text: t('sec.bundles') }),
      h('ul', {}, bundles.map((b) => h('li', {},
        h('code', { text: b.id.slice(0, 8) }), ' ',
        h('b', { text: tOr('bundle.' + b.state, b.state) }), ' (' + tOr('bundle.' + b.direction, b.direction) + ') · ',
        t('bundle.line', { p: b.peer, n: (b.parts || []).length, e: fmtInt(b.entries), b: fmtInt(b.blobs) }), ' · ',
        h('span', { class: 'muted', text: (b.updated || '').replace('T', ' ').slice(0, 16) + (b.note ? ' · ' + b.note : '') }))))));
  }

  function card(cls, title, big, ...lines) {
    return h('div', { class: 'card ' + cls }, h('h3', { text: title }), h('div', { class: 'big' }, big), lines.filter(Boolean).map((l) => h('div', { class: 'line' }, l)));
  }

  function renderCards(snap, sorted) {
    const tot = snap.totals;
    const cards = [];
    if (tot.expected > 0) {
      const f = tot.enrolled_known / tot.expected;
      cards.push(card(f < 0.5 ? 'warn' : 'ok', t('card.completeness'), fmtPct(f),
        h('span', {}, bar(f)), t('card.enrolled_of', { a: fmtInt(tot.enrolled_known), b: fmtInt(tot.expected) }),
        tot.expected_known < tot.communes ? h('span', { class: 'muted', text: t('card.expected_partial', { a: tot.expected_known, b: tot.communes }) }) : null));
    } else {
      cards.push(card('', t('card.completeness'), fmtInt(tot.enrolled), t('card.enrolled', { a: fmtInt(tot.enrolled) }), h('span', { class: 'muted', text: t('card.expected_unknown') })));
    }
    if (tot.census) {
      const c = tot.census, f = c.eligible ? (c.enrolled + c.accounted) / c.eligible : 0;
      cards.push(card(c.missing ? (f < 0.5 ? 'warn' : '') : 'ok', t('card.census'), fmtPct(f), h('span', {}, bar(f)),
        t('card.census_line', { a: fmtInt(c.enrolled), b: fmtInt(c.accounted), c: fmtInt(c.missing), e: fmtInt(c.eligible) }),
        t('card.census_communes', { a: fmtInt(tot.complete_communes), b: fmtInt(tot.census_communes) })));
    }
    cards.push(card('', t('card.communes'), fmtInt(tot.communes), t('card.devices', { n: fmtInt(tot.devices) })));
    cards.push(card(tot.pending > 0 ? 'warn' : 'ok', t('card.backlog'), fmtInt(tot.pending) + ' ' + t('unit.entries'),
      tot.pending > 0 ? fmtBytes(tot.pending_bytes) : t('card.backlog_none')));
    const worst = sorted.find((x) => x.st.level === 'bad' || x.st.level === 'warn');
    if (worst) {
      const c = worst.c;
      cards.push(card(worst.st.level, t('card.behind'), h('span', {}, c.name),
        h('span', { class: 'behind-n', text: worst.st.text }),
        c.pending > 0 ? fmtBytes(c.pending_bytes) + (c.drain_seconds ? ' · ' + t('col.drain') + ': ' + fmtDuration(c.drain_seconds) : '') : null,
        t('col.last_contact') + ': ' + fmtAgo(c.oldest_contact)));
    } else {
      cards.push(card('ok', t('card.behind'), t('card.all_caught_up')));
    }
    const ds = tot.dossiers || {};
    if (ds.dossiers > 0) {
      const f = ds.complete / ds.dossiers;
      cards.push(card(ds.incomplete > 0 ? 'warn' : 'ok', t('card.dossiers'), fmtPct(f), h('span', {}, bar(f)),
        t('card.dossiers_of', { a: fmtInt(ds.complete), b: fmtInt(ds.dossiers) }),
        ds.incomplete > 0 ? h('span', { class: 'muted', text: t('dossiers.incomplete', { n: fmtInt(ds.incomplete) }) + ' · ' + fmtBytes(ds.pending_bytes) +
          (ds.drain_seconds ? ' · ' + t('col.drain') + ': ' + fmtDuration(ds.drain_seconds) : '') }) : null));
    } else {
      cards.push(card('', t('card.dossiers'), '—', t('card.dossiers_none')));
    }
    const nc = state.conflicts ? state.conflicts.total : 0, nd = state.duplicates ? state.duplicates.total : 0;
    cards.push(card(nc + nd > 0 ? 'warn' : 'ok', t('card.queue'), fmtInt(nc + nd), t('card.queue_line', { c: fmtInt(nc), d: fmtInt(nd) })));
    replace($('cards'), cards);
  }

  function completenessCell(enrolled, expected) {
    if (!expected) return h('td', {}, h('span', { class: 'pct' }, fmtInt(enrolled)), ' ', h('span', { class: 'muted', text: '/ ' + t('unknown') }));
    const f = enrolled / expected;
    return h('td', {}, bar(f), h('span', { class: 'pct' }, fmtInt(enrolled) + ' / ' + fmtInt(expected) + ' (' + fmtPct(f) + ')'));
  }

  // censusCell shows completeness against the resident list: enrolled and
  // accounted for of the eligible, and what is missing (a button opening
  // the list of people to visit) or that the commune is complete.
  function censusCell(c, code) {
    if (!c) return h('td', { class: 'census muted', text: '—' });
    const f = c.eligible ? (c.enrolled + c.accounted) / c.eligible : 0;
    const done = c.eligible > 0 && c.missing === 0;
    return h('td', { class: 'census' }, bar(f),
      h('span', { class: 'pct', title: t('census.title', { a: fmtInt(c.enrolled), b: fmtInt(c.accounted), c: fmtInt(c.missing), e: fmtInt(c.eligible) }) },
        fmtInt(c.enrolled + c.accounted) + ' / ' + fmtInt(c.eligible) + ' (' + fmtPct(f) + ')'),
      ' ', done ? badge('ok complete', t('census.complete'))
        : code ? h('button', { type: 'button', class: 'missing-link', 'data-missing': code }, t('census.missing', { n: fmtInt(c.missing) }))
          : h('span', { class: 'behind-n', text: t('census.missing', { n: fmtInt(c.missing) }) }));
  }

  function renderDistricts(ds) {
    $('districts-box').hidden = ds.length < 2;
    if (ds.length < 2) return;
    const head = h('tr', {}, h('th', { text: t('col.district') }), h('th', { class: 'num', text: t('col.communes') }),
      h('th', { class: 'num', text: t('field.device') }), h('th', { text: t('col.completeness') }), h('th', { text: t('col.census') }),
      h('th', { class: 'num', text: t('col.backlog') }), h('th', { class: 'num', text: t('col.dossiers') }));
    const rows = ds.map((d) => h('tr', { class: d.census && d.complete === d.communes ? 'complete' : '', 'data-district': d.code },
      h('td', {}, h('span', { class: 'code', text: d.code }), d.name,
        d.census ? h('div', { class: 'muted', text: t('census.communes_complete', { a: fmtInt(d.complete), b: fmtInt(d.communes) }) }) : null),
      h('td', { class: 'num', text: fmtInt(d.communes) }), h('td', { class: 'num', text: fmtInt(d.devices) }),
      completenessCell(d.enrolled, d.expected), censusCell(d.census, ''), h('td', { class: 'num' + (d.pending ? ' behind-n' : ''), text: fmtInt(d.pending) }),
      dossierCell(d.dossiers)));
    const tot = state.snap.totals;
    rows.push(h('tr', { class: 'total' }, h('td', { text: t('total.row') }), h('td', { class: 'num', text: fmtInt(tot.communes) }),
      h('td', { class: 'num', text: fmtInt(tot.devices) }), completenessCell(tot.enrolled, tot.expected), censusCell(tot.census, ''),
      h('td', { class: 'num', text: fmtInt(tot.pending) }), dossierCell(tot.dossiers)));
    replace($('districts'), h('thead', {}, head), h('tbody', {}, rows));
  }

  // dossierCell: complete of all, and what the incomplete still miss.
  function dossierCell(d) {
    if (!d || !d.dossiers) return h('td', { class: 'num dossiers', text: '—' });
    return h('td', { class: 'num dossiers' }, h('span', { text: fmtInt(d.complete) + ' / ' + fmtInt(d.dossiers) }),
      d.incomplete ? h('br') : null,
      d.incomplete ? h('span', { class: 'muted', text: t('dossiers.incomplete', { n: fmtInt(d.incomplete) }) + ' · ' + fmtBytes(d.pending_bytes) +
        (d.drain_seconds ? ' · ' + fmtDuration(d.drain_seconds) : '') }) : null);
  }

  function backlogCell(entries, bytes) {
    if (!entries) return h('td', { class: 'num backlog', text: '0' });
    return h('td', { class: 'num backlog' }, h('span', { class: 'behind-n', text: fmtInt(entries) }), h('br'), h('span', { class: 'muted', text: fmtBytes(bytes) }));
  }
  function drainCell(entries, seconds) {
    return h('td', { class: 'num drain', text: !entries ? '—' : seconds ? fmtDuration(seconds) : t('unknown') });
  }

  function renderCommunes(sorted) {
    const head = h('tr', {}, ['col.commune', 'col.completeness', 'col.census', 'col.status', 'col.last_contact'].map((k) => h('th', { text: t(k) })),
      h('th', { class: 'num', text: t('col.backlog') }), h('th', { class: 'num', text: t('col.drain') }), h('th', { class: 'num', text: t('col.dossiers') }),
      h('th', { text: t('col.link') }), h('th', { class: 'num', text: t('col.rate') }), h('th', { text: t('col.chart') }));
    const rows = [];
    for (const { c, st } of sorted) {
      rows.push(h('tr', { class: 'commune ' + st.level + (c.complete ? ' complete' : ''), 'data-code': c.code },
        h('td', { class: 'name' }, h('span', { class: 'code', text: c.code }), c.name,
          state.snap.districts.length > 1 ? h('div', { class: 'muted', text: c.district_name }) : null),
        completenessCell(c.enrolled, c.expected), censusCell(c.census, c.code),
        h('td', { class: 'status' }, badge(st.level, st.text)),
        h('td', { class: 'contact', text: c.devices.length ? fmtAgo(c.last_contact) : '—' }),
        backlogCell(c.pending, c.pending_bytes), drainCell(c.pending, c.drain_seconds), dossierCell(c.dossiers),
        h('td', {}), h('td', {}), h('td', {})));
      for (const d of c.devices) {
        rows.push(h('tr', { class: 'device', 'data-origin': d.origin },
          h('td', { class: 'name', title: d.origin }, d.name || '', h('span', { class: 'mono dev-id', text: d.device })),
          h('td', { class: 'num', text: fmtInt(d.entries) + ' ' + t('unit.entries') }),
          h('td', {}), h('td', {}),
          h('td', { class: 'contact', text: fmtAgo(d.last_contact) }),
          backlogCell(d.pending, d.pending_bytes), drainCell(d.pending, d.drain_seconds), dossierCell(d.dossiers),
          h('td', { class: 'link' }, d.link ? linkBadge(d.link) : d.via ? badge('via', t('via', { p: d.via })) : '—'),
          h('td', { class: 'num', text: fmtRate(d.rate_bytes_per_sec) }),
          h('td', {}, d.history ? sparkline(d.history) : h('span', { class: 'muted' }, '—'))));
      }
    }
    if (!rows.length) rows.push(h('tr', {}, h('td', { class: 'empty', colspan: 11, text: t('empty.communes') })));
    replace($('communes'), h('thead', {}, head), h('tbody', {}, rows));
    renderMissing();
  }

  // ---------------------------------------------------------------- missing people

  async function openMissing(code) {
    try {
      state.missing = await getJSON('/dash/residents?category=missing&commune=' + encodeURIComponent(code));
      renderMissing();
      $('missing-box').scrollIntoView({ block: 'start' });
      $('missing-title').focus();
    } catch (e) {
      if (e instanceof LoginRequired) showLogin(true);
      else toast(t('msg.load_failed', { m: e.message }), true);
    }
  }

  function renderMissing() {
    const m = state.missing;
    $('missing-box').hidden = !m;
    if (!m) return;
    $('missing-title').textContent = t('missing.title', { c: m.name + ' (' + m.commune + ')', n: fmtInt(m.total) });
    const head = h('tr', {}, ['col.address', 'col.household', 'col.pid', 'col.name', 'col.dob', 'col.rstatus'].map((k) => h('th', { text: t(k) })));
    const rows = m.people.map((p) => {
      const r = p.resident || {};
      const st = p.status ? tOr('rstatus.' + p.status.status, p.status.status) + ' · ' + p.status.officer : '';
      return h('tr', { class: 'person', 'data-pid': p.personal_id }, h('td', { text: r.address || '' }), h('td', { text: r.household || '' }),
        h('td', { class: 'mono', text: p.personal_id }), h('td', { text: r.full_name || '' }), h('td', { text: fmtDate(r.date_of_birth) }),
        h('td', { class: 'muted', text: st }));
    });
    if (!rows.length) rows.push(h('tr', {}, h('td', { class: 'empty', colspan: 6, text: t('missing.none') })));
    replace($('missing'), h('thead', {}, head), h('tbody', {}, rows));
  }

  function renderPeers(peers) {
    const head = h('tr', {}, h('th', { text: t('col.peer') }), h('th', { text: t('col.role') }), h('th', { text: t('col.link') }),
      h('th', { text: t('col.last_contact') }), h('th', { class: 'num', text: t('col.to_send') }), h('th', { class: 'num', text: t('col.to_receive') }),
      h('th', { class: 'num', text: t('col.drain') }), h('th', { class: 'num', text: t('col.rate') }), h('th', { class: 'num', text: t('col.sessions') }),
      h('th', { text: t('col.chart') }), h('th', { text: t('col.error') }));
    const rows = peers.map((p) => {
      const role = p.role === 'hub' ? tOr('tier.' + p.tier, t('role.hub')) : tOr('role.' + p.role, p.role || '—');
      const unitName = p.role === 'node' ? state.communeNames[p.unit] : null;
      return h('tr', { 'data-peer': p.name },
        h('td', { class: 'name' }, h('b', { text: p.name }), p.addr ? h('div', { class: 'muted mono', text: p.addr }) : null),
        h('td', {}, role, p.unit ? h('div', { class: 'muted', text: (unitName ? unitName + ' ' : '') + '(' + p.unit + ')' }) : null),
        h('td', {}, linkBadge(p.link)),
        h('td', { text: fmtAgo(p.last_contact) }),
        backlogCell(p.backlog_entries, p.backlog_bytes),
        backlogCell(p.incoming, p.incoming_bytes),
        h('td', { class: 'num' }, p.backlog_entries ? (p.drain_seconds ? '↑ ' + fmtDuration(p.drain_seconds) : '↑ ' + t('unknown')) : null,
          p.backlog_entries && p.incoming ? h('br') : null,
          p.incoming ? (p.incoming_seconds ? '↓ ' + fmtDuration(p.incoming_seconds) : '↓ ' + t('unknown')) : null,
          !p.backlog_entries && !p.incoming ? '—' : null),
        h('td', { class: 'num', text: fmtRate(p.rate_bytes_per_sec) }),
        h('td', { class: 'num', text: fmtInt(p.sessions) }),
        h('td', {}, sparkline(p.history)),
        h('td', {}, p.last_error ? h('div', { class: 'err', title: p.last_error, text: p.last_error }) : ''));
    });
    if (!rows.length) rows.push(h('tr', {}, h('td', { class: 'empty', colspan: 11, text: t('empty.peers') })));
    replace($('peers'), h('thead', {}, head), h('tbody', {}, rows));
  }

  // ---------------------------------------------------------------- review queues

  const place = (p) => (p ? p.text || p.unit_code || '' : '');
  const relative = (r) => (r ? r.full_name + (r.personal_id ? ' · ' + r.personal_id : '') : '');
  // FIELDS are the rows of a side-by-side comparison: label key and value.
  const FIELDS = [
    ['personal_id', (r) => r.personal_id || ''],
    ['full_name', (r) => r.full_name],
    ['date_of_birth', (r) => fmtDate(r.date_of_birth)],
    ['sex', (r) => r.sex],
    ['birth_registration', (r) => place(r.birth_registration)],
    ['father', (r) => relative(r.father)],
    ['mother', (r) => relative(r.mother)],
    ['hometown', (r) => place(r.hometown)],
    ['permanent_residence', (r) => place(r.permanent_residence)],
    ['capture_commune', (r) => { const c = r.capture || {}; return (state.communeNames[c.commune_code] || '') + ' (' + (c.commune_code || '') + ')'; }],
    ['officer', (r) => (r.capture || {}).officer || ''],
    ['device', (r) => (r.capture || {}).device || ''],
    ['captured_at', (r) => fmtDateTime((r.capture || {}).captured_at)],
  ];

  // portrait shows a capture's photo, fetched with the operator's session
  // (never cached); a capture whose portrait is not here yet, or a JPEG
  // 2000 the browser cannot draw, shows a note instead.
  function portrait(entry) {
    const box = h('div', { class: 'portrait' });
    if (!entry) { box.append(h('span', { class: 'muted', text: t('portrait.none') })); return box; }
    const img = h('img', { alt: t('portrait.alt'), title: entry });
    img.addEventListener('error', () => img.replaceWith(h('span', { class: 'muted', text: t('portrait.none') })));
    img.src = '/dash/portrait?entry=' + encodeURIComponent(entry);
    box.append(img);
    return box;
  }

  // sideBySide compares records in columns; cells of rows whose values
  // differ are highlighted, and the conflict's identity fields named.
  function sideBySide(headers, records, conflictFields, footer) {
    const thead = h('thead', {}, h('tr', {}, h('th', { class: 'field' }), headers.map((x) => h('th', {}, x))));
    const rows = FIELDS.map(([key, get]) => {
      const vals = records.map((r) => (r ? get(r) : ''));
      const differ = vals.some((v) => v !== vals[0]);
      return h('tr', { 'data-field': key, class: conflictFields.includes(key) ? 'key' : '' },
        h('th', { class: 'field' + (conflictFields.includes(key) ? ' conflict' : ''), text: t('field.' + key) }),
        vals.map((v) => h('td', { class: differ ? 'diff' : '', text: v || '—' })));
    });
    if (footer) rows.push(h('tr', {}, h('td', { class: 'act' }), footer.map((f) => h('td', { class: 'act' }, f))));
    return h('table', { class: 'side' }, thead, h('tbody', {}, rows));
  }

  // keyed re-renders a list of cards, keeping the element of any card whose
  // data did not change (so that a note being typed survives live updates).
  function keyed(container, items, idOf, build) {
    const old = new Map();
    for (const el of container.children) if (el.dataset.id) old.set(el.dataset.id, el);
    const keep = [];
    for (const it of items) {
      const id = idOf(it);
      const sig = state.lang + JSON.stringify(it);
      let el = old.get(id);
      if (!el || el.dataset.sig !== sig) {
        const note = el ? el.querySelector('input.note') : null;
        el = build(it);
        el.dataset.id = id;
        el.dataset.sig = sig;
        if (note && note.value) el.querySelector('input.note').value = note.value;
      }
      keep.push(el);
    }
    const want = new Set(keep);
    for (const el of [...container.children]) if (!want.has(el)) el.remove();
    keep.forEach((el, i) => { if (container.children[i] !== el) container.insertBefore(el, container.children[i] || null); });
  }

  function queueTitle(kind, countKey) {
    const a = state[kind];
    let s = t(countKey, { n: fmtInt(a.total) });
    if (a.items.length && a.items.length < a.total) s += ' (' + t('queue.shown_of', { a: a.items.length, b: a.total }) + ')';
    $(kind + '-title').textContent = s;
  }

  function emptyQueue(container, text) {
    if (container.querySelector('.queue-empty')) { container.querySelector('.queue-empty').textContent = text; return; }
    replace(container, h('div', { class: 'queue-empty', text }));
  }

  function renderConflicts() {
    const a = state.conflicts, box = $('conflicts');
    queueTitle('conflicts', 'conf.count');
    if (!a.items.length && a.total > 0) return; // only counted so far: the items are on their way
    if (!a.items.length) { emptyQueue(box, t('conf.empty')); return; }
    const empty = box.querySelector('.queue-empty');
    if (empty) empty.remove();
    keyed(box, a.items, (c) => c.conflict.id, (c) => {
      const fields = c.conflict.fields || [];
      const headers = c.versions.map((v, i) => h('div', {},
        portrait(v.id),
        t('conf.version', { n: i + 1 }), v.id === c.shown ? badge('ok shown', t('conf.shown')) : null,
        h('div', { class: 'muted mono', title: v.id, text: shortEntry(v.id) + ' · ' + v.kind })));
      const buttons = c.versions.map((v) => h('button', { type: 'button', class: 'primary', 'data-action': 'choose', 'data-choose': v.id, text: t('conf.choose') }));
      return h('div', { class: 'item conflict', 'data-kind': 'conflict' },
        h('div', { class: 'item-head' },
          h('h3', { text: t('conf.citizen', { k: c.key }) }),
          h('span', { class: 'chip', text: t('queue.level', { l: queueName(c.conflict.level) }) }),
          h('span', { class: 'chips' }, t('conf.fields', { f: '' }), fields.map((f) => h('span', { class: 'chip field', text: tOr('field.' + f, f) })))),
        sideBySide(headers, c.versions.map((v) => v.record), fields, buttons),
        h('div', { class: 'actions' }, h('input', { class: 'note', type: 'text', maxlength: 1000, placeholder: t('note.placeholder') })));
    });
  }

  // A reason supports "same person" unless it names a difference.
  // evidenceChip renders one line of a pair's evidence: the sentence in the
  // page's language and its weight in bits; family and place evidence that a
  // stronger line of its group already says is shown faded (it does not count).
  function evidenceChip(ev) {
    const w = ev.weight || 0;
    const cls = 'chip evidence ' + (w > 0 ? 'for' : w < 0 ? 'against' : '') + (ev.counted === false ? ' uncounted' : '');
    const weight = w ? ' ' + (w > 0 ? '+' : '−') + Math.abs(w).toFixed(1) : '';
    const title = ev.code + (ev.counted === false ? ' — ' + t('dup.uncounted') : '');
    return h('span', { class: cls, title, text: (state.lang === 'en' ? ev.en : ev.vi) + weight });
  }

  function renderDuplicates() {
    const a = state.duplicates, box = $('duplicates');
    queueTitle('duplicates', 'dup.count');
    if (!a.items.length && a.total > 0) return; // only counted so far: the items are on their way
    if (!a.items.length) { emptyQueue(box, t('dup.empty')); return; }
    const empty = box.querySelector('.queue-empty');
    if (empty) empty.remove();
    keyed(box, a.items, (p) => p.id, (p) => {
      const cs = p.citizens || [];
      const headers = cs.map((c) => h('div', {}, portrait(c.shown), t('dup.citizen', { k: c.key })));
      return h('div', { class: 'item pair', 'data-kind': 'pair' },
        h('div', { class: 'item-head' },
          h('h3', { text: t('dup.score', { p: fmtPct(p.score) }) }),
          h('span', { class: 'chip', text: t('queue.level', { l: queueName(p.level) }) }),
          p.model ? h('span', { class: 'chip', title: t('dup.model_title'), text: t('dup.model', { m: p.model }) }) : null,
          h('span', { class: 'chips' }, (p.evidence || []).map(evidenceChip))),
        sideBySide(headers, cs.map((c) => c.record), [], null),
        h('div', { class: 'actions' },
          h('input', { class: 'note', type: 'text', maxlength: 1000, placeholder: t('note.placeholder') }),
          h('button', { type: 'button', class: 'primary', 'data-action': 'same', text: t('dup.same') }),
          h('button', { type: 'button', class: 'danger', 'data-action': 'distinct', text: t('dup.distinct') })));
    });
  }

  // ---------------------------------------------------------------- decisions

  async function decide(item, req) {
    const officer = $('officer').value.trim();
    if (!officer) {
      toast(t('msg.need_officer'), true);
      $('officer').classList.add('need');
      $('officer').focus();
      return;
    }
    req.officer = officer;
    const note = item.querySelector('input.note');
    if (note && note.value.trim()) req.note = note.value.trim();
    const buttons = item.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch('/dash/resolve', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(req),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 401) { showLogin(true); return; }
      if (!r.ok) throw new Error(body.error || r.statusText);
      item.classList.add('leaving');
      toast(t('msg.decided', { e: shortEntry(body.entry) }));
      schedule(0);
    } catch (e) {
      buttons.forEach((b) => { b.disabled = false; });
      toast(t('msg.failed', { m: e.message }), true);
    }
  }

  function onQueueClick(ev) {
    const b = ev.target.closest('button[data-action]');
    if (!b) return;
    const item = b.closest('.item');
    const id = item.dataset.id;
    if (b.dataset.action === 'choose') decide(item, { id, choose: b.dataset.choose });
    if (b.dataset.action === 'same') decide(item, { id, same_person: true });
    if (b.dataset.action === 'distinct') decide(item, { id, distinct: true });
  }

  // ---------------------------------------------------------------- start

  function selectTab(tab) {
    const changed = state.tab !== tab;
    state.tab = tab;
    if (location.hash !== '#' + tab) history.replaceState(null, '', '#' + tab);
    showLogin(!$('login').hidden);
    render();
    if (changed) schedule(0); // the queue of the new tab, in full
  }

  async function start() {
    try {
      state.labels = await (await fetch('/assets/labels.json')).json();
    } catch (e) { /* keys are shown instead of labels */ }
    applyStatic();
    setLive(false);
    const officer = $('officer');
    officer.value = localStorage.getItem('fieldsync.officer') || '';
    officer.addEventListener('input', () => {
      localStorage.setItem('fieldsync.officer', officer.value.trim());
      officer.classList.remove('need');
    });
    $('lang').addEventListener('click', () => {
      state.lang = state.lang === 'vi' ? 'en' : 'vi';
      localStorage.setItem('fieldsync.lang', state.lang);
      applyStatic();
      setLive($('live').classList.contains('on'));
      render();
    });
    $('sort').value = state.sort;
    $('sort').addEventListener('change', () => {
      state.sort = $('sort').value;
      localStorage.setItem('fieldsync.sort', state.sort);
      render();
    });
    for (const kind of ['conflicts', 'duplicates']) {
      $(kind + '-all').addEventListener('change', (e) => { state.all[kind] = e.target.checked; schedule(0); });
      $(kind).addEventListener('click', onQueueClick);
    }
    for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => selectTab(b.dataset.tab));
    for (const id of ['communes', 'districts']) {
      $(id).addEventListener('click', (ev) => {
        const b = ev.target.closest('button[data-missing]');
        if (b) openMissing(b.dataset.missing);
      });
    }
    $('missing-close').addEventListener('click', () => { state.missing = null; renderMissing(); });
    const initial = location.hash.slice(1);
    if (['overview', 'conflicts', 'duplicates'].includes(initial)) state.tab = initial;
    selectTab(state.tab);
    await refresh();
    if ($('login').hidden) connect();
    setInterval(() => { if (state.tab === 'overview') render(); }, 5000); // relative times
    setInterval(() => schedule(), 60000); // in case an event was lost
  }

  start();
})();
