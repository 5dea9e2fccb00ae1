// fieldsync capture app: plain JavaScript, no build step, no network
// access beyond the laptop that serves it. Validation and look-ups are the
// laptop's (POST /app/check runs the same rules as `fieldsync enroll`):
// this page only shows what the Go side answers.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const state = {
    lang: localStorage.getItem('fieldsync.lang') === 'en' ? 'en' : 'vi',
    labels: {},
    session: null, // /app/session
    ref: null, // /app/refdata
    tab: 'capture',
    touched: new Set(), // fields the officer has been in
    showAll: false, // after a save attempt: every finding shows
    check: null, // the last /app/check answer
    amend: '', // entry the form corrects
    resident: '', // ID number of the person of the list being captured
    dismissed: new Set(), // matches the officer said are other people
    residents: null,
    queue: null,
  };

  // Every input event is timed until the answer that covers it is on the
  // screen: window.fieldsyncLatency holds the milliseconds (the browser
  // test reads it; the page shows the median).
  window.fieldsyncLatency = [];
  window.fieldsyncChecks = [];
  // Anything the page tried to load from elsewhere is a CSP violation:
  // kept for the browser test (there must be none).
  window.fieldsyncViolations = [];
  // Script errors, kept for the browser test (there must be none).
  window.fieldsyncErrors = [];
  window.addEventListener('error', (e) => window.fieldsyncErrors.push(e.message + ' @' + e.lineno));
  window.addEventListener('unhandledrejection', (e) => window.fieldsyncErrors.push(String(e.reason && e.reason.stack || e.reason)));
  document.addEventListener('securitypolicyviolation', (e) => window.fieldsyncViolations.push(e.violatedDirective + ' ' + e.blockedURI));

  // ---------------------------------------------------------------- labels

  function t(key, vars) {
    const l = state.labels[key];
    let s = l ? (l[state.lang] || l.vi) : key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split('{' + k + '}').join(String(v));
    return s;
  }
  function fieldLabel(path) {
    const l = state.ref && state.ref.labels[path];
    return l ? (state.lang === 'vi' ? l[0] : l[1]) : path;
  }
  function applyStatic() {
    document.documentElement.lang = state.lang;
    document.title = 'fieldsync · ' + t('app.title');
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
    for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }

  const locale = () => (state.lang === 'vi' ? 'vi-VN' : 'en-GB');
  const fmtInt = (n) => new Intl.NumberFormat(locale()).format(n || 0);
  const fmtPct = (x) => new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(x);
  function fmtDuration(sec) {
    sec = Math.round(sec);
    if (sec < 60) return t('dur.s', { n: Math.max(sec, 1) });
    if (sec < 3600) return t('dur.m', { n: Math.round(sec / 60) });
    return t('dur.h', { h: Math.floor(sec / 3600), m: Math.floor((sec % 3600) / 60) });
  }
  const isNever = (ts) => !ts || Date.parse(ts) < Date.UTC(2000, 0, 1);
  function fmtTime(ts) {
    if (isNever(ts)) return t('time.never');
    const d = new Date(ts);
    const pad = (n) => String(n).padStart(2, '0');
    return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function fmtDate(d) { return d ? String(d).split('-').reverse().join('/') : ''; }
  function fmtBytes(n) {
    if (!n) return '0 B';
    if (n < 1024) return fmtInt(n) + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  // ---------------------------------------------------------------- DOM

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || ['id', 'for', 'type', 'name', 'role', 'title', 'maxlength', 'inputmode', 'list', 'autocomplete', 'placeholder', 'value', 'colspan', 'scope', 'accept', 'tabindex'].includes(k)) el.setAttribute(k, v);
      else el[k] = v;
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function replace(el, ...children) { el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)); }
  const idOf = (path) => 'f-' + path.replace(/[.[\]]/g, '-');

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

  class SignInRequired extends Error {}

  async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    const data = await r.json().catch(() => ({}));
    if (r.status === 401) throw new SignInRequired(data.error);
    if (!r.ok && r.status !== 422) {
      const e = new Error(state.lang === 'vi' ? (data.error_vi || data.error || r.statusText) : (data.error || r.statusText));
      e.status = r.status;
      throw e;
    }
    data.__status = r.status;
    return data;
  }

  function onError(e) {
    if (e instanceof SignInRequired) { showSignIn(); return; }
    toast(e.message, true);
  }

  // ---------------------------------------------------------------- sign in

  async function loadSession() {
    state.session = await api('GET', '/app/session');
    $('commune-name').textContent = state.session.commune_name + ' (' + state.session.commune + ')';
    $('laptop-name').textContent = state.session.laptop ? '· ' + state.session.laptop : '';
    if (!state.session.officer) { showSignIn(); return; }
    await showApp();
  }

  function showSignIn() {
    state.session = state.session || {};
    state.session.officer = null;
    $('app').hidden = true;
    $('who').hidden = true;
    $('signout').hidden = true;
    $('signin-page').hidden = false;
    $('signin-none').hidden = !!(state.session && state.session.officers);
    $('signin-officer').focus();
  }

  async function signIn(ev) {
    ev.preventDefault();
    const err = $('signin-error');
    err.hidden = true;
    $('signin-submit').disabled = true;
    try {
      const r = await api('POST', '/app/signin', { officer: $('signin-officer').value.trim(), password: $('signin-password').value });
      $('signin-password').value = '';
      state.session.officer = r.officer;
      await showApp();
    } catch (e) {
      err.textContent = e instanceof SignInRequired ? t('signin.wrong') : e.message;
      err.hidden = false;
      $('signin-password').value = '';
      $('signin-password').focus();
    } finally {
      $('signin-submit').disabled = false;
    }
  }

  async function signOut() {
    await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' }).catch(() => {});
    clearForm();
    showSignIn();
  }

  async function showApp() {
    $('signin-page').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('signout').hidden = false;
    $('officer-name').textContent = state.session.officer.name + ' (' + state.session.officer.id + ')';
    if (!state.ref) {
      state.ref = await api('GET', '/app/refdata');
      buildForm();
    }
    selectTab(state.tab);
    refreshQueue();
    refreshResidents();
    focusFirst();
  }

  // ---------------------------------------------------------------- the form

  // The form's fields, section by section. Paths are the record's JSON
  // paths: the validation's findings name them.
  function formSpec() {
    const r = state.ref;
    const opt = (v, label) => ({ v, label: label === undefined ? v : label });
    return [
      { key: 'identity', fields: [
        { path: 'personal_id', kind: 'text', mode: 'numeric', max: 20, hint: 'hint.pid' },
        { path: 'full_name', kind: 'text', max: 100, hint: 'hint.name' },
        { path: 'date_of_birth', kind: 'text', max: 10, hint: 'hint.dob' },
        { path: 'sex', kind: 'radio', options: [opt('Nam', 'sex.m'), opt('Nữ', 'sex.f')] },
        { path: 'ethnicity_code', kind: 'select', value: '01', options: r.ethnicities.map((e) => opt(e.code, e.code + ' — ' + e.name)) },
        { path: 'religion', kind: 'select', value: 'Không', options: r.religions.map((x) => opt(x)) },
        { path: 'nationality', kind: 'text', value: 'Việt Nam', max: 100 },
      ] },
      { key: 'places', fields: [
        { path: 'birth_registration', kind: 'place', level: 'province' },
        { path: 'hometown', kind: 'place', level: 'any' },
        { path: 'permanent_residence', kind: 'place', level: 'commune', own: true },
        { path: 'current_residence', kind: 'place', level: 'commune', optional: true },
      ] },
      { key: 'family', fields: [
        { path: 'father', kind: 'relative' },
        { path: 'mother', kind: 'relative' },
        { path: 'household_head', kind: 'relative' },
        { path: 'relation_to_head', kind: 'select', options: [opt('', 'choose')].concat(r.relations.map((x) => opt(x))) },
      ] },
      { key: 'other', fields: [
        { path: 'occupation', kind: 'text', max: 100 },
        { path: 'marital_status', kind: 'select', options: [opt('', 'choose')].concat(r.marital_statuses.map((x) => opt(x))) },
        { path: 'blood_type', kind: 'select', options: [opt('', 'choose')].concat(['A', 'B', 'AB', 'O', 'A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'].map((x) => opt(x))) },
        { path: 'capture.request_type', kind: 'select', value: 'cấp mới', options: r.request_types.map((x) => opt(x)) },
      ] },
      { key: 'biometrics', fields: [{ path: 'biometrics', kind: 'portrait' }, { path: 'files', kind: 'scanner' }] },
    ];
  }

  function message(path) { return h('div', { class: 'msg', id: 'msg-' + idOf(path), 'aria-live': 'polite' }); }

  function labelFor(path, extra) {
    return h('label', { for: idOf(path) }, fieldLabel(path), extra ? h('span', { class: 'muted small', text: ' ' + extra }) : null);
  }

  // shortLabel names a part of a place or relative in a few words (its
  // group's legend says whose); the full name is the input's title.
  function shortLabel(path, key) {
    return h('label', { for: idOf(path), title: fieldLabel(path) }, t(key));
  }

  function input(path, spec) {
    return h('input', { id: idOf(path), 'data-field': path, type: 'text', maxlength: spec.max || 200, inputmode: spec.mode,
      value: spec.value || '', 'aria-describedby': 'msg-' + idOf(path) + (spec.hint ? ' hint-' + idOf(path) : ''), autocomplete: 'off', spellcheck: 'false' });
  }

  function buildField(f) {
    const wrap = h('div', { class: 'field', 'data-for': f.path });
    switch (f.kind) {
      case 'text':
        wrap.append(labelFor(f.path), input(f.path, f));
        if (f.hint) wrap.append(h('div', { class: 'hint', id: 'hint-' + idOf(f.path), 'data-i18n': f.hint, text: t(f.hint) }));
        break;
      case 'select': {
        const sel = h('select', { id: idOf(f.path), 'data-field': f.path, 'aria-describedby': 'msg-' + idOf(f.path) },
          f.options.map((o) => h('option', { value: o.v, text: state.labels[o.label] ? t(o.label) : o.label })));
        sel.value = f.value || '';
        wrap.append(labelFor(f.path), sel);
        break;
      }
      case 'radio': {
        const fs = h('fieldset', { class: 'radios', id: idOf(f.path), 'aria-describedby': 'msg-' + idOf(f.path) }, h('legend', { text: fieldLabel(f.path) }));
        f.options.forEach((o, i) => {
          const id = idOf(f.path) + '-' + i;
          fs.append(h('input', { type: 'radio', name: f.path, id, value: o.v, 'data-field': f.path }), h('label', { for: id, class: 'inline', text: t(o.label) }));
        });
        wrap.append(fs);
        break;
      }
      case 'place': {
        const fs = h('fieldset', { class: 'place', 'data-place': f.path }, h('legend', {}, fieldLabel(f.path), f.optional ? h('span', { class: 'muted small', text: ' (' + t('optional') + ')' }) : null));
        const list = h('select', { id: idOf(f.path + '.code_list'), 'data-field': f.path + '.code_list', 'aria-describedby': 'msg-' + idOf(f.path + '.code_list') },
          state.ref.code_lists.map((l) => h('option', { value: l, text: t('codelist.' + l) })));
        // Birth registration is coded in the 2023 list (ID prefixes keep the
        // old province codes); the rest in the list in force today.
        list.value = f.path === 'birth_registration' ? '2023-04' : state.session.code_list;
        const code = input(f.path + '.unit_code', { max: 5, mode: 'numeric' });
        code.setAttribute('list', 'dl-' + idOf(f.path));
        const dl = h('datalist', { id: 'dl-' + idOf(f.path) });
        const text = input(f.path + '.text', { max: 500 });
        const fill = () => fillDatalist(dl, list.value, f.level);
        list.addEventListener('change', fill);
        code.addEventListener('change', () => { // name the unit in the text when empty
          const u = unitName(list.value, code.value.trim());
          if (u && !text.value.trim()) { text.value = u; onInput({ target: text }); }
        });
        fs.append(
          h('div', { class: 'row3' },
            h('div', {}, shortLabel(f.path + '.code_list', 'place.code_list'), list, message(f.path + '.code_list')),
            h('div', {}, shortLabel(f.path + '.unit_code', 'place.unit_code'), code, dl, message(f.path + '.unit_code')),
            h('div', { class: 'grow' }, shortLabel(f.path + '.text', 'place.text'), text, message(f.path + '.text'))),
          message(f.path));
        fill();
        if (f.own) code.value = state.session.commune;
        wrap.append(fs);
        return wrap;
      }
      case 'relative': {
        const fs = h('fieldset', { class: 'relative' }, h('legend', { text: fieldLabel(f.path) }),
          h('div', { class: 'row2' },
            h('div', { class: 'grow' }, shortLabel(f.path + '.full_name', 'rel.full_name'), input(f.path + '.full_name', { max: 100 }), message(f.path + '.full_name')),
            h('div', {}, shortLabel(f.path + '.personal_id', 'rel.personal_id'), input(f.path + '.personal_id', { max: 20, mode: 'numeric' }), message(f.path + '.personal_id'))),
          message(f.path));
        wrap.append(fs);
        return wrap;
      }
      case 'portrait':
        wrap.append(buildPortrait());
        return wrap;
      case 'scanner':
        wrap.append(buildScanner());
        return wrap;
    }
    wrap.append(message(f.path));
    return wrap;
  }

  function fillDatalist(dl, list, level) {
    const opts = [];
    if (level === 'province' || level === 'any') {
      const ps = list === '2025-07' ? state.ref.provinces_2025 : state.ref.provinces;
      for (const p of ps) opts.push(h('option', { value: p.code, text: p.code + ' — ' + p.name }));
    }
    if (level === 'commune' || level === 'any') {
      for (const u of state.ref.units[list] || []) if (u.level === 'commune') opts.push(h('option', { value: u.code, text: u.code + ' — ' + u.name }));
    }
    replace(dl, opts);
  }

  function unitName(list, code) {
    if (!code) return '';
    const ps = list === '2025-07' ? state.ref.provinces_2025 : state.ref.provinces;
    const p = ps.find((x) => x.code === code);
    if (p) return p.name;
    const u = (state.ref.units[list] || []).find((x) => x.code === code);
    return u ? u.name : '';
  }

  function buildForm() {
    const form = $('form');
    for (const old of form.querySelectorAll('.section')) old.remove();
    for (const sec of formSpec()) {
      const box = h('fieldset', { class: 'section', id: 'sec-' + sec.key }, h('legend', { 'data-i18n': 'sec.' + sec.key, text: t('sec.' + sec.key) }));
      for (const f of sec.fields) box.append(buildField(f));
      form.append(box);
    }
    renderSlots();
    form.addEventListener('input', onInput);
    form.addEventListener('change', onInput);
    form.addEventListener('focusout', (ev) => {
      const p = ev.target.dataset && ev.target.dataset.field;
      if (p && !state.touched.has(p)) { state.touched.add(p); renderChecks(); }
    });
    setMode();
  }

  // record reads the form into an enrollment as `fieldsync enroll` takes it.
  function record() {
    const val = (p) => { const el = $(idOf(p)); return el ? el.value : ''; };
    const trimmed = (p) => val(p).trim();
    const rec = {};
    const setText = (p, key) => { const v = p === 'full_name' ? val(p) : trimmed(p); if (v) rec[key || p] = v; };
    setText('personal_id');
    rec.full_name = val('full_name');
    if (trimmed('date_of_birth')) rec.date_of_birth = trimmed('date_of_birth');
    const sex = document.querySelector('input[name="sex"]:checked');
    if (sex) rec.sex = sex.value;
    setText('ethnicity_code');
    setText('religion');
    const nat = trimmed('nationality');
    if (nat) rec.nationality = nat.split(',').map((s) => s.trim()).filter(Boolean);
    for (const p of ['birth_registration', 'hometown', 'permanent_residence', 'current_residence']) {
      const place = { unit_code: trimmed(p + '.unit_code'), code_list: val(p + '.code_list'), text: val(p + '.text').trim() };
      if (place.unit_code || place.text) rec[p] = place;
      else if (p !== 'current_residence') rec[p] = {};
    }
    for (const p of ['father', 'mother', 'household_head']) {
      const name = val(p + '.full_name').trim(), id = trimmed(p + '.personal_id');
      if (name || id) { rec[p] = { full_name: name }; if (id) rec[p].personal_id = id; }
    }
    setText('relation_to_head');
    setText('occupation');
    setText('marital_status');
    setText('blood_type');
    rec.capture = {};
    if (trimmed('capture.request_type')) rec.capture.request_type = trimmed('capture.request_type');
    return rec;
  }

  function setMode() {
    $('form-title').textContent = state.amend ? t('form.amend_title') : t('form.title');
    const bits = [];
    if (state.amend) bits.push(t('form.amend_of', { e: shortEntry(state.amend) }));
    if (state.resident) bits.push(t('form.from_list', { p: state.resident }));
    $('form-mode').textContent = bits.join(' · ');
    $('save').textContent = state.amend ? t('form.save_amend') : t('form.save');
  }
  const shortEntry = (id) => { const [o, s] = String(id || '').split(':'); return s ? o.slice(0, 8) + '…:' + s : id; };

  function focusFirst() {
    if (state.tab !== 'capture') return;
    const el = $(idOf('personal_id'));
    if (el) el.focus();
  }

  function clearForm() {
    state.amend = '';
    state.resident = '';
    state.touched.clear();
    state.showAll = false;
    state.dismissed.clear();
    state.check = null;
    portrait.clear();
    scans.clear();
    if (state.ref) {
      buildForm();
      renderChecks();
      renderSlots();
    }
    $('receipt').hidden = true;
  }

  function setValue(path, v) {
    const el = $(idOf(path));
    if (!el) return;
    if (el.tagName === 'FIELDSET') {
      for (const r of el.querySelectorAll('input[type=radio]')) r.checked = r.value === v;
    } else {
      el.value = v == null ? '' : v;
    }
  }

  // fill puts a record (a capture to correct, a row of the list) in the form.
  function fill(rec) {
    setValue('personal_id', rec.personal_id || '');
    setValue('full_name', rec.full_name || '');
    setValue('date_of_birth', rec.date_of_birth ? fmtDate(rec.date_of_birth) : '');
    setValue('sex', rec.sex || '');
    if (rec.ethnicity_code) setValue('ethnicity_code', rec.ethnicity_code);
    if (rec.religion) setValue('religion', rec.religion);
    if (rec.nationality) setValue('nationality', rec.nationality.join(', '));
    for (const p of ['birth_registration', 'hometown', 'permanent_residence', 'current_residence']) {
      const pl = rec[p];
      if (!pl) continue;
      if (pl.code_list) setValue(p + '.code_list', pl.code_list);
      setValue(p + '.unit_code', pl.unit_code || '');
      setValue(p + '.text', pl.text || '');
    }
    for (const p of ['father', 'mother', 'household_head']) {
      const r = rec[p] || {};
      setValue(p + '.full_name', r.full_name || '');
      setValue(p + '.personal_id', r.personal_id || '');
    }
    for (const p of ['relation_to_head', 'occupation', 'marital_status', 'blood_type']) if (rec[p]) setValue(p, rec[p]);
    if (rec.capture && rec.capture.request_type) setValue('capture.request_type', rec.capture.request_type);
    for (const k of ['personal_id', 'full_name', 'date_of_birth', 'sex']) state.touched.add(k);
    scheduleCheck();
  }

  // ---------------------------------------------------------------- live checks

  // Checks are pipelined: each change sends the form at once (up to
  // maxInflight requests; more wait for one to return), and the newest
  // answer to arrive is shown. An input's latency ends when an answer to a
  // request sent after it is on the screen: about one round trip.
  const maxInflight = 4;
  let inflight = 0, dirty = false, sentSeq = 0, shownSeq = 0;
  // Input events not yet answered: when, and the first request sent after.
  let pending = [];

  function onInput(ev) {
    const p = ev.target && ev.target.dataset && ev.target.dataset.field;
    if (p) state.touched.add(p);
    pending.push({ at: performance.now(), seq: 0 });
    scheduleCheck();
  }

  // answered resolves the inputs a shown answer (to request seq) covers.
  function answered(seq, now) {
    pending = pending.filter((p) => {
      if (p.seq && p.seq <= seq) { window.fieldsyncLatency.push(now - p.at); return false; }
      return true;
    });
  }

  function scheduleCheck() {
    if (inflight >= maxInflight) { dirty = true; return; }
    runCheck();
  }

  async function runCheck() {
    inflight++;
    dirty = false;
    const seq = ++sentSeq;
    for (const p of pending) if (!p.seq) p.seq = seq;
    try {
      const sent = performance.now();
      const ans = await api('POST', '/app/check', { record: record(), amend: state.amend || undefined });
      const got = performance.now();
      if (seq > shownSeq) { // an older answer arriving late is not shown
        shownSeq = seq;
        state.check = ans;
        renderChecks();
        answered(seq, performance.now());
      }
      window.fieldsyncChecks.push([got - sent, performance.now() - got, ans.took_us / 1000]); // round trip, render, server (ms)
    } catch (e) {
      for (const p of pending) if (p.seq === seq) p.seq = 0; // the next request covers them
      onError(e);
    } finally {
      inflight--;
      if (dirty) runCheck();
    }
  }

  const sevOrder = { reject: 0, warn: 1, info: 2 };

  // visible: a finding shows once the officer has been in its field (or
  // tried to save); until then the panel only counts it.
  function visible(f) {
    if (state.showAll || !f.field) return true;
    const root = f.field.split('.')[0];
    return state.touched.has(f.field) || state.touched.has(root) || [...state.touched].some((p) => p.startsWith(root + '.'));
  }

  function renderChecks() {
    const c = state.check;
    for (const el of document.querySelectorAll('#form .msg')) { el.textContent = ''; el.className = 'msg'; }
    for (const el of document.querySelectorAll('#form [aria-invalid]')) el.removeAttribute('aria-invalid');
    if (!c) { replace($('findings')); $('checks-summary').textContent = ''; renderDups(); return; }
    const shown = c.findings.filter(visible).sort((a, b) => sevOrder[a.severity] - sevOrder[b.severity]);
    const counts = { reject: 0, warn: 0, info: 0 };
    for (const f of c.findings) counts[f.severity]++;
    $('checks-summary').textContent = counts.reject ? t('checks.rejects', { n: counts.reject, w: counts.warn })
      : counts.warn ? t('checks.warns', { n: counts.warn }) : t('checks.ok');
    $('checks-summary').className = 'small ' + (counts.reject ? 'bad' : counts.warn ? 'warn' : 'ok');
    const items = [];
    for (const f of shown) {
      const msg = state.lang === 'vi' ? f.message_vi : f.message;
      const target = $(idOf(f.field)) || $(idOf(f.field.split('.')[0]));
      const slot = $('msg-' + idOf(f.field)) || (target ? $('msg-' + idOf(f.field.split('.')[0])) : null);
      if (slot && !slot.textContent) {
        slot.textContent = msg;
        slot.className = 'msg ' + f.severity;
      }
      if (target && f.severity === 'reject') target.setAttribute('aria-invalid', 'true');
      items.push(h('li', { class: f.severity, 'data-code': f.code, 'data-field': f.field },
        h('span', { class: 'sev', text: t('sev.' + f.severity) }), ' ',
        target ? h('button', { type: 'button', class: 'link', 'data-goto': f.field, text: msg }) : msg));
    }
    const hidden = c.findings.length - shown.length;
    if (hidden > 0) items.push(h('li', { class: 'muted' }, t('checks.hidden', { n: hidden })));
    replace($('findings'), items);
    renderDups();
  }

  // ---------------------------------------------------------------- duplicates

  function renderDups() {
    const c = state.check;
    // The person of the list being captured is no duplicate of the form.
    const ms = c ? c.matches.filter((m) => !state.dismissed.has(keyOf(m)) && !(m.kind === 'resident' && m.person.personal_id === state.resident)) : [];
    $('dups-panel').hidden = ms.length === 0;
    if (!ms.length) { replace($('dups')); return; }
    const rec = record();
    // The same matches as shown: update them in place, so that a button
    // the officer is on keeps the focus while the form changes.
    const shown = [...$('dups').children].map((c) => c.dataset.key + '|' + c.dataset.why).join(',');
    const fresh = ms.map((m) => dupCard(m, rec));
    if (shown === fresh.map((c) => c.dataset.key + '|' + c.dataset.why).join(',')) {
      [...$('dups').children].forEach((old, i) => {
        old.match = fresh[i].match;
        old.querySelector('tbody').replaceWith(fresh[i].querySelector('tbody'));
      });
      return;
    }
    replace($('dups'), fresh);
  }
  const keyOf = (m) => (m.kind === 'capture' ? 'c:' + m.entry : 'r:' + m.person.personal_id);

  function dupCard(m, rec) {
    const other = m.kind === 'capture' ? m.record : m.resident;
    const rows = [
      ['personal_id', rec.personal_id, other.personal_id],
      ['full_name', rec.full_name, other.full_name],
      ['date_of_birth', rec.date_of_birth, fmtDate(other.date_of_birth)],
      ['sex', rec.sex, other.sex],
      ['permanent_residence', (rec.permanent_residence || {}).text, m.kind === 'capture' ? (other.permanent_residence || {}).text : other.address],
      ['household_head', (rec.household_head || {}).full_name, m.kind === 'capture' ? (other.household_head || {}).full_name : (other.household ? t('dups.household', { h: other.household, r: other.relation_to_head || '' }) : '')],
    ];
    const title = m.kind === 'capture' ? t('dups.capture', { e: shortEntry(m.entry) }) : t('dups.resident');
    // The model's evidence for the match, strongest first, in the page's language.
    const evidence = (m.evidence || []).filter((e) => e.counted !== false && e.weight > 0).sort((a, b) => b.weight - a.weight)
      .map((e) => (state.lang === 'vi' ? e.vi : e.en));
    const reasons = evidence.length ? evidence : (m.reasons || []).map((r) => t('reason.' + r));
    const why = m.same_id ? t('dups.same_id') : t('dups.probable', { s: fmtPct(m.score) }) + (reasons.length ? ' · ' + reasons.join(', ') : '');
    const status = m.person && m.person.status ? t('rstatus.' + m.person.status.status) + ' · ' + m.person.status.officer : '';
    const card = h('div', { class: 'dup ' + m.kind + (m.same_id ? ' same' : ''), 'data-key': keyOf(m), 'data-why': why, role: 'group', 'aria-label': title },
      h('h3', {}, title, ' ', h('span', { class: 'badge ' + (m.same_id ? 'bad' : 'warn'), text: why })),
      status ? h('p', { class: 'small muted', text: t('dups.status', { s: status }) }) : null,
      h('table', { class: 'compare' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }), h('th', { scope: 'col', text: t('dups.form') }), h('th', { scope: 'col', text: t('dups.there') }))),
        h('tbody', {}, rows.map(([p, a, b]) => h('tr', { 'data-field': p, class: norm(a) !== norm(b) ? 'diff' : '' },
          h('th', { scope: 'row', text: fieldLabel(p) }), h('td', { text: a || '—' }), h('td', { text: b || '—' }))))),
      h('div', { class: 'actions' },
        m.kind === 'resident' ? h('button', { type: 'button', 'data-act': 'use', text: t('dups.use_list') }) : h('button', { type: 'button', 'data-act': 'amend', text: t('dups.amend') }),
        h('button', { type: 'button', 'data-act': 'dismiss', text: t('dups.dismiss') })));
    card.match = m;
    return card;
  }
  const norm = (s) => String(s || '').normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();

  async function onDupClick(ev) {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    const m = b.closest('.dup').match;
    if (b.dataset.act === 'dismiss') { state.dismissed.add(keyOf(m)); renderDups(); return; }
    if (b.dataset.act === 'use') { useResident(m.resident); return; }
    if (b.dataset.act === 'amend') {
      try {
        const cap = await api('GET', '/app/capture?id=' + encodeURIComponent(m.entry));
        state.amend = cap.entry;
        fill(cap.record);
        setMode();
        toast(t('form.amending'));
        $(idOf('personal_id')).focus();
      } catch (e) { onError(e); }
    }
  }

  // useResident fills the form from a row of the list: the register's
  // name, date and sex, and links the capture to that person.
  function useResident(r) {
    state.resident = r.personal_id;
    fill({ personal_id: r.personal_id, full_name: r.full_name, date_of_birth: r.date_of_birth, sex: r.sex, relation_to_head: r.relation_to_head,
      permanent_residence: { unit_code: state.session.commune, code_list: $(idOf('permanent_residence.code_list')).value, text: r.address || '' } });
    setMode();
    $(idOf('full_name')).focus();
  }

  // ---------------------------------------------------------------- portrait

  // The portrait: from the laptop's camera (getUserMedia, a frame drawn on
  // a canvas as JPEG) or from a file; shown as a thumbnail with its slot.
  // It stays in this page until the dossier is saved with its files.
  const portrait = {
    blob: null, url: '', stream: null,
    clear() {
      if (this.url) URL.revokeObjectURL(this.url);
      this.blob = null; this.url = '';
      this.stop();
      renderPortrait();
    },
    stop() { if (this.stream) { for (const tr of this.stream.getTracks()) tr.stop(); this.stream = null; } },
    set(blob) {
      if (this.url) URL.revokeObjectURL(this.url);
      this.blob = blob; this.url = URL.createObjectURL(blob);
      this.stop();
      renderPortrait();
    },
  };

  function buildPortrait() {
    return h('fieldset', { class: 'portrait' }, h('legend', { 'data-i18n': 'bio.portrait', text: t('bio.portrait') }),
      h('div', { class: 'row2' },
        h('div', { class: 'shot', id: 'portrait-box' }),
        h('div', {},
          h('button', { type: 'button', id: 'camera-start', text: t('bio.camera') }), ' ',
          h('button', { type: 'button', id: 'camera-take', hidden: true, text: t('bio.take') }), ' ',
          h('label', { for: 'portrait-file', class: 'filelabel', text: t('bio.file') }),
          h('input', { type: 'file', id: 'portrait-file', accept: 'image/jpeg', 'data-slot': 'face' }),
          h('p', { class: 'small muted', id: 'portrait-note', text: t('bio.none') }))));
  }

  function renderPortrait() {
    const box = $('portrait-box');
    if (!box) return;
    if (portrait.stream) return;
    replace(box, portrait.url ? h('img', { src: portrait.url, alt: t('bio.thumb_alt'), class: 'thumb', 'data-slot': 'face' }) : h('div', { class: 'empty-shot', text: t('bio.empty') }));
    $('portrait-note').textContent = portrait.blob ? t('bio.have', { s: fmtBytes(portrait.blob.size) }) : t('bio.none');
    $('camera-take').hidden = true;
  }

  // The scanner's files: chosen from its output folder, each named by its
  // slot ("finger_r2.wsq", "iris_l.png"); an empty slot takes an exception
  // code. The laptop checks every file from its bytes when the dossier is
  // saved (format, size, dimensions) and names the slot of any it refuses.
  const scans = {
    files: new Map(), // slot → {file, url}
    exceptions: new Map(), // slot → code
    clear() {
      for (const f of this.files.values()) if (f.url) URL.revokeObjectURL(f.url);
      this.files.clear();
      this.exceptions.clear();
    },
  };
  const slotOfName = (name) => name.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '').toLowerCase();

  function buildScanner() {
    const box = h('fieldset', { class: 'scanner' }, h('legend', { text: t('bio.scanner') }),
      h('label', { for: 'scan-files', class: 'filelabel', text: t('bio.scan_files') }),
      h('input', { type: 'file', id: 'scan-files', multiple: true, accept: '.wsq,.png,.jp2,.j2k,.jpg,.jpeg' }),
      h('p', { class: 'small muted', text: t('bio.scan_hint') }),
      h('div', { class: 'slots', id: 'slots' }));
    return box;
  }

  function renderSlots() {
    const grid = $('slots');
    if (!grid || !state.ref) return;
    const slotName = (sp) => (state.lang === 'vi' ? sp.VI : sp.Label);
    replace(grid, state.ref.slots.filter((sp) => sp.Kind !== 'face').map((sp) => {
      const f = scans.files.get(sp.Name);
      const exc = h('select', { id: 'exc-' + sp.Name, 'data-exc': sp.Name, 'aria-label': t('bio.exception_for', { s: slotName(sp) }), disabled: !!f },
        h('option', { value: '', text: t('bio.no_exception') }), state.ref.exceptions.map((c) => h('option', { value: c, text: t('exc.' + c) })));
      exc.value = scans.exceptions.get(sp.Name) || '';
      return h('div', { class: 'slot' + (f ? ' has' : ''), 'data-slot': sp.Name },
        h('div', { class: 'slot-name', text: slotName(sp) }),
        f ? (f.url ? h('img', { src: f.url, alt: slotName(sp), class: 'thumb small-thumb' }) : h('div', { class: 'file-tile', text: f.file.name })) : null,
        f ? h('div', { class: 'small muted', text: f.file.name + ' · ' + fmtBytes(f.file.size) }) : exc);
    }));
    const unknown = [...scans.files.keys()].filter((k) => !state.ref.slots.some((sp) => sp.Name === k));
    if (unknown.length) grid.append(h('p', { class: 'msg reject', text: t('bio.unknown_slots', { f: unknown.join(', ') }) }));
  }

  function addScans(list) {
    for (const file of list) {
      const slot = slotOfName(file.name);
      const old = scans.files.get(slot);
      if (old && old.url) URL.revokeObjectURL(old.url);
      const img = /\.(png|jpe?g)$/i.test(file.name);
      scans.files.set(slot, { file, url: img ? URL.createObjectURL(file) : '' });
      scans.exceptions.delete(slot);
    }
    renderSlots();
  }

  // base64 of a blob, for the save's JSON.
  function base64(blob) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  }

  async function dossierFiles() {
    const files = [];
    if (portrait.blob) files.push({ slot: 'face', name: portrait.blob.name || 'portrait.jpg', data: await base64(portrait.blob) });
    for (const [slot, f] of scans.files) files.push({ slot, name: f.file.name, data: await base64(f.file) });
    const exceptions = {};
    for (const [slot, code] of scans.exceptions) if (code && !scans.files.has(slot)) exceptions[slot] = code;
    return { files, exceptions };
  }

  async function startCamera() {
    try {
      portrait.stop();
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      portrait.stream = stream;
      const v = h('video', { autoplay: true, playsInline: true, muted: true, class: 'thumb', 'aria-label': t('bio.live') });
      v.srcObject = stream;
      replace($('portrait-box'), v);
      $('camera-take').hidden = false;
      $('camera-take').focus();
    } catch (e) {
      toast(t('bio.no_camera', { m: e.message }), true);
    }
  }

  function takePhoto() {
    const v = document.querySelector('#portrait-box video');
    if (!v) return;
    const c = document.createElement('canvas');
    c.width = v.videoWidth || 640;
    c.height = v.videoHeight || 480;
    c.getContext('2d').drawImage(v, 0, 0, c.width, c.height);
    c.toBlob((b) => { if (b) { portrait.set(b); $('camera-start').focus(); } }, 'image/jpeg', 0.9);
  }

  // ---------------------------------------------------------------- save

  async function save() {
    state.showAll = true;
    renderChecks();
    const body = { record: record(), amend: state.amend || undefined, resident: state.resident || undefined };
    if (!state.amend) Object.assign(body, await dossierFiles());
    $('save').disabled = true;
    try {
      const r = await api('POST', '/app/save', body);
      if (r.__status === 422) {
        state.check = { findings: r.findings, matches: state.check ? state.check.matches : [] };
        renderChecks();
        toast(t('save.refused'), true);
        const first = r.findings.find((f) => f.severity === 'reject');
        const el = first && ($(idOf(first.field)) || $(idOf(first.field.split('.')[0])));
        if (el) el.focus();
        return;
      }
      showReceipt(r);
      refreshQueue();
      refreshResidents();
    } catch (e) {
      onError(e);
    } finally {
      $('save').disabled = false;
    }
  }

  function showReceipt(r) {
    const rc = r.receipt;
    const rows = [
      [t('receipt.entry'), h('code', { id: 'receipt-entry', text: rc.id })],
      [t('receipt.person'), (r.record.full_name || '') + (r.record.personal_id ? ' · ' + r.record.personal_id : '')],
      [t('receipt.officer'), r.record.capture.officer],
      [t('receipt.time'), fmtTime(r.record.capture.captured_at)],
      [t('receipt.where'), t('receipt.on_laptop')],
    ];
    if (r.status) rows.push([t('receipt.list'), t('receipt.linked', { e: shortEntry(r.status.id) })]);
    const bio = r.record.biometrics || [];
    if (bio.length) {
      rows.push([t('receipt.biometrics'), h('span', { id: 'receipt-slots' }, bio.map((b) => b.kind + (b.exception ? ' (' + t('exc.' + b.exception) + ')' : '')).join(', '))]);
    }
    if (rc.backlog_warning) rows.push([t('receipt.backlog'), h('span', { class: 'warn', text: rc.backlog_warning })]);
    replace($('receipt-body'), rows.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
    replace($('receipt-findings'), (rc.findings || []).map((f) => h('li', { class: f.severity }, h('span', { class: 'sev', text: t('sev.' + f.severity) }), ' ', state.lang === 'vi' ? f.message_vi : f.message)));
    $('receipt').hidden = false;
    $('receipt-title').focus();
  }

  // ---------------------------------------------------------------- residents

  let resTimer = null;
  async function refreshResidents() {
    try {
      const q = new URLSearchParams({ category: $('res-category').value, q: $('res-search').value, limit: 300 });
      state.residents = await api('GET', '/app/residents?' + q);
      renderResidents();
    } catch (e) { onError(e); }
  }

  function card(title, big, line, cls) {
    return h('div', { class: 'card ' + (cls || '') }, h('h3', { text: title }), h('div', { class: 'big', text: big }), line ? h('div', { class: 'line', text: line }) : null);
  }

  function renderResidents() {
    const r = state.residents;
    if (!r) return;
    const c = r.counts;
    $('count-missing').textContent = r.listed ? fmtInt(c.missing) : '';
    const f = c.eligible ? (c.enrolled + c.accounted) / c.eligible : 0;
    replace($('res-cards'), r.listed ? [
      card(t('res.complete'), fmtPct(f), t('res.complete_line', { a: fmtInt(c.enrolled), b: fmtInt(c.accounted), e: fmtInt(c.eligible) }), c.missing ? '' : 'ok'),
      card(t('res.missing'), fmtInt(c.missing), t('res.missing_line', { r: fmtInt(c.refused) }), c.missing ? 'warn' : 'ok'),
      card(t('res.on_list'), fmtInt(c.residents), t('res.not_eligible', { n: fmtInt(c.not_eligible) })),
    ] : [h('p', { class: 'muted', text: t('res.none') })]);
    $('res-total').textContent = r.listed ? t('res.total', { n: fmtInt(r.total), s: fmtInt(r.people.length) }) : '';
    const head = h('tr', {}, ['col.address', 'col.household', 'col.pid', 'col.name', 'col.dob', 'col.sex', 'col.rstatus', 'col.actions'].map((k) => h('th', { scope: 'col', text: t(k) })));
    const rows = r.people.map((p) => {
      const row = p.resident || {};
      const st = p.status ? t('rstatus.' + p.status.status) : (p.captured ? t('rstatus.enrolled') : t('rstatus.none'));
      const sel = h('select', { 'aria-label': t('res.set_status_for', { n: row.full_name || p.personal_id }), 'data-pid': p.personal_id },
        h('option', { value: '', text: t('res.set_status') }), state.ref.statuses.filter((s) => s !== 'enrolled').map((s) => h('option', { value: s, text: t('rstatus.' + s) })));
      return h('tr', { class: 'person ' + p.category, 'data-pid': p.personal_id },
        h('td', { text: row.address || '' }), h('td', { text: row.household || '' }), h('td', { class: 'mono', text: p.personal_id }),
        h('td', { text: row.full_name || '' }), h('td', { text: fmtDate(row.date_of_birth) }), h('td', { text: row.sex || '' }),
        h('td', {}, st, p.status && p.status.concurrent ? h('span', { class: 'badge warn', text: t('res.concurrent') }) : null),
        h('td', { class: 'acts' }, p.category === 'missing' ? h('button', { type: 'button', 'data-capture': p.personal_id, text: t('res.capture') }) : null, ' ', sel));
    });
    if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: r.listed ? t('res.empty') : t('res.none') })));
    replace($('res-table'), h('thead', {}, head), h('tbody', {}, rows));
    $('res-table').people = r.people;
  }

  async function onResidentsClick(ev) {
    const b = ev.target.closest('button[data-capture]');
    if (!b) return;
    const p = $('res-table').people.find((x) => x.personal_id === b.dataset.capture);
    if (!p || !p.resident) return;
    clearForm();
    selectTab('capture');
    useResident(p.resident);
  }

  async function onResidentsChange(ev) {
    const sel = ev.target.closest('select[data-pid]');
    if (!sel || !sel.value) return;
    const p = $('res-table').people.find((x) => x.personal_id === sel.dataset.pid);
    const note = sel.value === 'away' || sel.value === 'moved' ? window.prompt(t('res.note_prompt')) || '' : '';
    try {
      const r = await api('POST', '/app/status', { personal_id: sel.dataset.pid, status: sel.value, note, supersedes: p && p.status ? p.status.current.map((x) => x.origin + ':' + x.seq) : [] });
      if (r.__status === 422) { toast(r.findings.map((f) => (state.lang === 'vi' ? f.message_vi : f.message)).join('; '), true); return; }
      toast(t('res.saved', { e: shortEntry(r.receipt.id) }));
      refreshResidents();
      refreshQueue();
    } catch (e) { onError(e); }
  }

  // ---------------------------------------------------------------- queue

  async function refreshQueue() {
    try {
      state.queue = await api('GET', '/app/queue');
      renderQueue();
    } catch (e) { onError(e); }
  }

  function renderQueue() {
    const q = state.queue;
    if (!q) return;
    const b = q.backlog;
    $('count-queue').textContent = q.on_laptop ? fmtInt(q.on_laptop) : '';
    const hub = q.hubs[0];
    $('sync-chip').textContent = q.on_laptop ? t('sync.waiting', { n: fmtInt(q.on_laptop) }) : t('sync.done');
    $('sync-chip').className = 'sync ' + (q.on_laptop ? 'warn' : 'ok');
    $('freeze').hidden = !b.warning;
    $('freeze').textContent = b.warning ? t('queue.freeze', { w: b.warning }) : '';
    const drain = q.hubs.reduce((m, x) => Math.max(m, x.drain_seconds || 0), 0);
    replace($('queue-cards'), [
      card(t('queue.on_laptop'), fmtInt(q.on_laptop), t('queue.on_laptop_line', { n: fmtInt(q.max_unsynced_entries) }), q.on_laptop ? 'warn' : 'ok'),
      card(t('queue.at_hub'), fmtInt(Math.max(0, q.at_hub - 1)), hub ? t('queue.last_contact', { t: fmtTime(hub.last_contact) }) : t('queue.no_hub')),
      card(t('queue.drain'), q.on_laptop ? (drain ? fmtDuration(drain) : t('unknown')) : '—', t('queue.drain_line')),
      card(t('queue.captures'), fmtInt(q.captures), t('queue.unconfirmed', { n: fmtInt(q.dossiers.dossiers), b: fmtBytes(q.dossiers.blob_bytes) })),
    ]);
    replace($('queue-hubs'), h('thead', {}, h('tr', {}, ['col.hub', 'col.link', 'col.last_contact', 'col.backlog', 'col.drain'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, q.hubs.length ? q.hubs.map((x) => h('tr', {}, h('td', { text: x.name }), h('td', {}, h('span', { class: 'badge ' + (x.connected ? 'ok' : x.last_error ? 'bad' : 'idle'), text: x.connected ? t('link.connected') : x.last_error ? t('link.failing') : t('link.idle') })),
        h('td', { text: fmtTime(x.last_contact) }), h('td', { class: 'num', text: fmtInt(x.backlog_entries) + ' · ' + fmtBytes(x.backlog_bytes) }),
        h('td', { class: 'num', text: x.backlog_entries ? (x.drain_seconds ? fmtDuration(x.drain_seconds) : t('unknown')) : '—' })))
        : h('tr', {}, h('td', { colspan: 5, class: 'empty', text: t('queue.no_hub') }))));
    replace($('queue-recent'), h('thead', {}, h('tr', {}, ['col.entry', 'col.name', 'col.pid', 'col.time', 'col.where'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, q.recent.length ? q.recent.map((x) => h('tr', { 'data-entry': x.entry, class: x.state },
        h('td', { class: 'mono', text: shortEntry(x.entry) + (x.kind === 'amend' ? ' (' + t('kind.amend') + ')' : '') }), h('td', { text: x.name }), h('td', { class: 'mono', text: x.personal_id || '' }),
        h('td', { text: fmtTime(x.captured_at) }), h('td', {}, h('span', { class: 'badge ' + (x.state === 'laptop' ? 'warn' : 'ok'), text: t('where.' + x.state) }))))
        : h('tr', {}, h('td', { colspan: 5, class: 'empty', text: t('queue.none') }))));
  }

  // ---------------------------------------------------------------- tabs and keys

  function selectTab(tab) {
    state.tab = tab;
    for (const b of document.querySelectorAll('.tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    for (const p of ['capture', 'residents', 'queue']) $('page-' + p).hidden = p !== tab;
    if (tab === 'residents') refreshResidents();
    if (tab === 'queue') refreshQueue();
  }

  function onKey(ev) {
    if ($('app').hidden) return;
    if (ev.altKey && ['1', '2', '3'].includes(ev.key)) {
      ev.preventDefault();
      const tab = ['capture', 'residents', 'queue'][Number(ev.key) - 1];
      selectTab(tab);
      $('tab-' + tab).focus();
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 's' && state.tab === 'capture') {
      ev.preventDefault();
      save();
      return;
    }
    if (ev.key === 'Escape' && !$('receipt').hidden) {
      $('receipt').hidden = true;
      focusFirst();
    }
    if (ev.target.closest && ev.target.closest('[role=tablist]') && (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft')) {
      const tabs = ['capture', 'residents', 'queue'];
      const i = tabs.indexOf(state.tab) + (ev.key === 'ArrowRight' ? 1 : 2);
      selectTab(tabs[i % 3]);
      $('tab-' + tabs[i % 3]).focus();
    }
  }

  // ---------------------------------------------------------------- start

  async function start() {
    try {
      state.labels = await (await fetch('/assets/labels.json')).json();
    } catch (e) { /* keys are shown instead */ }
    applyStatic();
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    $('lang').addEventListener('click', () => {
      state.lang = state.lang === 'vi' ? 'en' : 'vi';
      localStorage.setItem('fieldsync.lang', state.lang);
      applyStatic();
      if (state.ref) {
        const rec = record(), amend = state.amend, resident = state.resident;
        buildForm();
        fill(rec);
        state.amend = amend; state.resident = resident;
        setMode();
        renderPortrait();
      }
      renderChecks();
      renderResidents();
      renderQueue();
    });
    for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => selectTab(b.dataset.tab));
    document.addEventListener('keydown', onKey);
    $('save').addEventListener('click', save);
    $('clear').addEventListener('click', () => { clearForm(); focusFirst(); });
    $('receipt-new').addEventListener('click', () => { clearForm(); focusFirst(); });
    $('receipt-queue').addEventListener('click', () => { $('receipt').hidden = true; selectTab('queue'); $('tab-queue').focus(); });
    $('dups').addEventListener('click', onDupClick);
    $('findings').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-goto]');
      if (!b) return;
      const el = $(idOf(b.dataset.goto)) || $(idOf(b.dataset.goto.split('.')[0]));
      if (el) (el.tagName === 'FIELDSET' ? el.querySelector('input') : el).focus();
    });
    document.addEventListener('click', (ev) => {
      if (ev.target.id === 'camera-start') startCamera();
      if (ev.target.id === 'camera-take') takePhoto();
    });
    document.addEventListener('change', (ev) => {
      if (ev.target.id === 'portrait-file' && ev.target.files[0]) portrait.set(ev.target.files[0]);
      if (ev.target.id === 'scan-files' && ev.target.files.length) addScans(ev.target.files);
      if (ev.target.dataset && ev.target.dataset.exc) scans.exceptions.set(ev.target.dataset.exc, ev.target.value);
    });
    $('res-category').addEventListener('change', refreshResidents);
    $('res-search').addEventListener('input', () => { clearTimeout(resTimer); resTimer = setTimeout(refreshResidents, 150); });
    $('res-table').addEventListener('click', onResidentsClick);
    $('res-table').addEventListener('change', onResidentsChange);
    try {
      await loadSession();
    } catch (e) { onError(e); }
    setInterval(() => { if (!$('app').hidden) refreshQueue(); }, 15000);
  }

  start();
})();
