// trackmatch investigator page: search by photo and details, read records,
// work through the review queue, run re-scoring jobs. Plain JavaScript over
// the /v1 API; the API key lives only in sessionStorage for this tab, and
// photos are fetched with it (fetch → blob → object URL). Every piece of
// record data reaches the page through textContent, never as HTML.
'use strict';

(() => {
  const KEY_STORE = 'trackmatch.key';
  const JOB_STORE = 'trackmatch.job';
  const MAX_QUERY_PHOTOS = 10;   // the API's MaxPhotosPerSearch
  const MAX_IN_FLIGHT = 4;       // parallel requests; the API rate-limits each key
  const POLL_MS = 1000;

  const $ = (id) => document.getElementById(id);

  // el builds an element: attrs may hold class, text, dataset, on<event>
  // handlers and plain attributes; children are nodes or strings (as text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function hiddenText(s) { return el('span', { class: 'visually-hidden', text: s }); }

  function announce(msg) {
    const a = $('announce');
    a.textContent = '';
    // a fresh text node after a tick makes screen readers read repeats too
    setTimeout(() => { a.textContent = msg; }, 30);
  }

  // ---------------------------------------------------------------- session

  const session = {
    key() { return sessionStorage.getItem(KEY_STORE) || ''; },
    set(k) { sessionStorage.setItem(KEY_STORE, k); },
    clear() {
      sessionStorage.removeItem(KEY_STORE);
      sessionStorage.removeItem(JOB_STORE);
    },
  };

  // keyID is the key's public name, as the API's audit log and decisions
  // show it: the first 12 hex digits of the SHA-256 of the secret.
  async function keyID(secret) {
    if (!window.crypto || !crypto.subtle) return '';
    const sum = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
    return Array.from(new Uint8Array(sum).slice(0, 6), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ---------------------------------------------------------------- API

  class APIError extends Error {
    constructor(status, code, message, fields) {
      super(message);
      this.status = status;
      this.code = code;
      this.fields = fields || [];
    }
  }

  let inFlight = 0;
  const waiting = [];
  async function takeSlot() {
    while (inFlight >= MAX_IN_FLIGHT) await new Promise((r) => waiting.push(r));
    inFlight++;
  }
  function releaseSlot() {
    inFlight--;
    const next = waiting.shift();
    if (next) next();
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // api calls the /v1 API with the session's key. opts.json sends a JSON
  // body, opts.form a FormData, opts.blob reads the answer as a Blob. A 429
  // is retried after Retry-After; any other error is thrown as APIError.
  async function api(method, path, opts = {}) {
    await takeSlot();
    try {
      for (let attempt = 0; ; attempt++) {
        const headers = { Authorization: 'Bearer ' + session.key() };
        let body;
        if (opts.json !== undefined) {
          headers['Content-Type'] = 'application/json';
          body = JSON.stringify(opts.json);
        } else if (opts.form) {
          body = opts.form;
        }
        let resp;
        try {
          resp = await fetch(path, { method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error' });
        } catch (e) {
          throw new APIError(0, 'network', 'The server could not be reached. Check the connection and try again.');
        }
        if (resp.status === 429 && attempt < 5) {
          const wait = Number(resp.headers.get('Retry-After')) || 1;
          await sleep(wait * 1000);
          continue;
        }
        if (!resp.ok) {
          let e = {};
          try { e = (await resp.json()).error || {}; } catch (_) { /* not JSON */ }
          const err = new APIError(resp.status, e.code || 'http_' + resp.status, e.message || resp.statusText || 'request failed', e.fields);
          if (resp.status === 401) onUnauthorized(err);
          throw err;
        }
        if (resp.status === 204) return null;
        return opts.blob ? resp.blob() : resp.json();
      }
    } finally {
      releaseSlot();
    }
  }

  // describe turns an error into sentences an investigator can act on.
  function describe(err) {
    if (!(err instanceof APIError)) return /[.!?]$/.test(err.message) ? err.message : err.message + '.';
    const what = {
      0: '',
      400: 'The request was not understood',
      401: 'The API key was refused',
      403: 'Not allowed for this key',
      404: 'Not found',
      409: 'Not possible in the current state',
      413: 'Too large',
      415: 'Not a kind of image trackmatch can read',
      422: 'The server could not accept this',
      429: 'Too many requests; slow down',
      503: 'The service is unavailable right now',
    }[err.status] || 'The server reported an error';
    let s = what ? what + ' (HTTP ' + err.status + ', ' + err.code + '): ' + err.message : err.message;
    if (!/[.!?]$/.test(s)) s += '.';
    if (err.status === 503) s += ' Try again later.';
    return s;
  }

  function showError(boxID, err, hint) {
    const box = $(boxID);
    box.replaceChildren(el('p', { text: describe(err) + (hint ? ' ' + hint : '') }));
    if (err.fields && err.fields.length) {
      box.append(el('ul', null, err.fields.map((f) => el('li', null, el('code', { text: f.field }), ': ' + f.message))));
    }
    box.hidden = false;
    box.scrollIntoView({ block: 'nearest' });
  }
  function clearError(boxID) { const b = $(boxID); b.hidden = true; b.replaceChildren(); }

  // ---------------------------------------------------------------- caches

  // Records are read fresh for each page shown (their status changes);
  // photo bytes never change, so their object URLs live for the session.
  let children = new Map();   // id → Promise<child|null>
  const photoURLs = new Map(); // photo id → Promise<object URL>
  const faceURLs = new Map();  // photo id#face → Promise<object URL>

  function getChild(id) {
    if (!children.has(id)) {
      const p = api('GET', '/v1/children/' + encodeURIComponent(id)).catch((err) => {
        if (err.status === 403) return null; // this role may not read records
        throw err;
      });
      children.set(id, p);
      p.catch(() => children.delete(id));
    }
    return children.get(id);
  }

  function photoURL(photoID) {
    if (!photoURLs.has(photoID)) {
      const p = api('GET', '/v1/photos/' + encodeURIComponent(photoID), { blob: true }).then((b) => URL.createObjectURL(b));
      photoURLs.set(photoID, p);
      p.catch(() => photoURLs.delete(photoID));
    }
    return photoURLs.get(photoID);
  }

  function loadImage(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('the photo could not be shown'));
      img.src = src;
    });
  }

  // faceURL crops a face, with a margin, from its photo onto a canvas and
  // returns the crop as an object URL (so it can be an <img> with alt text).
  function faceURL(photoID, faceIndex, box) {
    const k = photoID + '#' + faceIndex;
    if (!faceURLs.has(k)) {
      const p = photoURL(photoID).then(loadImage).then((img) => {
        const [x, y, w, h] = box;
        const m = 0.3 * Math.max(w, h);
        const sx = Math.max(0, x - m), sy = Math.max(0, y - m);
        const ex = Math.min(img.naturalWidth, x + w + m), ey = Math.min(img.naturalHeight, y + h + m);
        const cw = 240, ch = Math.max(1, Math.round(cw * (ey - sy) / Math.max(1, ex - sx)));
        const canvas = document.createElement('canvas');
        canvas.width = cw;
        canvas.height = ch;
        canvas.getContext('2d').drawImage(img, sx, sy, ex - sx, ey - sy, 0, 0, cw, ch);
        return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(URL.createObjectURL(b)) : reject(new Error('crop failed'))), 'image/jpeg', 0.92));
      });
      faceURLs.set(k, p);
      p.catch(() => faceURLs.delete(k));
    }
    return faceURLs.get(k);
  }

  function forgetEverything() {
    for (const m of [photoURLs, faceURLs]) {
      for (const p of m.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
      m.clear();
    }
    children = new Map();
    $('search-form').reset(); // the reset handler forgets the chosen photos too
    query.clear();
    for (const id of ['search-results', 'record-body', 'record-photos', 'record-candidates', 'queue']) $(id).replaceChildren();
    for (const id of ['search-status', 'record-status', 'record-cands-status', 'review-status']) $(id).textContent = '';
    for (const box of document.querySelectorAll('.error')) { box.hidden = true; box.replaceChildren(); }
    queue.reset();
    jobs.stop();
  }

  // ---------------------------------------------------------------- records

  const kindLabel = { missing: 'Missing report', found: 'Found record' };
  const fieldLabel = {
    face: 'Face', name: 'Name', age: 'Age', sex: 'Sex', marks: 'Marks', height: 'Height',
    language: 'Language', place: 'Place', dates: 'Dates',
    father: "Father's name", mother: "Mother's name", guardian: 'Guardian', father_initial: "Child's initial",
    home: 'Home village', landmarks: 'Landmarks', clothing: 'Clothing', descriptors: 'Descriptors',
  };

  const familyFields = new Set(['father', 'mother', 'guardian', 'father_initial', 'home', 'landmarks', 'clothing', 'descriptors']);

  // guardianText writes guardians with their relation: "Ramesh (father)".
  // A guardian stored as a plain name (before relations) is shown as is.
  function guardianText(gs) {
    return (gs || []).map((g) => typeof g === 'string' ? g
      : g.name + (g.relation && g.relation !== 'other' ? ' (' + g.relation + ')' : '')).join(', ');
  }

  function homeText(h) {
    if (!h) return '';
    const where = [h.village, h.police_station && 'PS ' + h.police_station, h.district, h.state].filter(Boolean).join(', ');
    return [where, h.landmarks && 'landmarks: ' + h.landmarks].filter(Boolean).join('; ');
  }

  function clothingText(c) {
    if (!c) return '';
    return [[c.colour, c.pattern, c.garment].filter(Boolean).join(' '), c.text].filter(Boolean).join('; ');
  }

  function descriptorsText(d) {
    if (!d) return '';
    return [d.complexion && 'complexion ' + d.complexion, d.build && 'build ' + d.build, d.hair && 'hair ' + d.hair].filter(Boolean).join(', ');
  }

  function childTitle(c) {
    const names = (c.names || []).join(' / ');
    return names || 'No name recorded';
  }

  function ageText(a) {
    if (!a) return '';
    return a.min === a.max ? 'age ' + a.min : 'age ' + a.min + '–' + a.max;
  }

  function placeText(p) {
    if (!p) return '';
    return [p.district, p.state].filter(Boolean).join(', ') || p.text || '';
  }

  // childFacts is the short line of key details shown beside a face.
  function childFacts(c) {
    const parts = [];
    if (c.sex && c.sex !== 'unknown') parts.push(c.sex);
    const age = ageText(c.age);
    if (age) parts.push(c.observed_on ? age + ' on ' + c.observed_on : age);
    else if (c.observed_on) parts.push((c.kind === 'missing' ? 'missing since ' : 'found on ') + c.observed_on);
    const place = placeText(c.place);
    if (place) parts.push(place);
    return parts.join(' · ');
  }

  function statusBadge(status) {
    return el('span', { class: 'badge status-' + status, dataset: { status } }, 'Status: ' + status);
  }

  // subjectPhoto picks the photo and face that show the child.
  function subjectPhoto(c) {
    const photos = c.photos || [];
    for (let i = 0; i < photos.length; i++) {
      const p = photos[i];
      if (p.subject >= 0 && p.faces && p.faces[p.subject]) return { photo: p, index: i };
    }
    return photos.length ? { photo: photos[0], index: 0 } : null;
  }

  function placeholder(text) {
    return el('div', { class: 'face placeholder', role: 'img', 'aria-label': text }, el('span', { 'aria-hidden': 'true', text }));
  }

  // faceFigure shows the child's face cropped from their photo. child is
  // null when this role may not read the record.
  function faceFigure(child, caption) {
    const fig = el('figure', { class: 'facefig' });
    const cap = el('figcaption', { text: caption });
    if (!child) {
      fig.append(placeholder('Photo hidden for this role'), cap);
      return fig;
    }
    const pick = subjectPhoto(child);
    if (!pick) {
      fig.append(placeholder('No photo on this record'), cap);
      return fig;
    }
    const { photo, index } = pick;
    const n = (child.photos || []).length;
    const slot = el('div', { class: 'face loading', role: 'img', 'aria-label': 'Loading photo' });
    fig.append(slot, cap);
    const face = photo.subject >= 0 ? photo.faces[photo.subject] : null;
    const who = kindLabel[child.kind] + ' ' + childTitle(child);
    const done = face ? faceURL(photo.id, photo.subject, face.box) : photoURL(photo.id);
    done.then((url) => {
      const alt = face
        ? 'Face of ' + who + ', cropped from photo ' + (index + 1) + ' of ' + n
        : 'Photo ' + (index + 1) + ' of ' + n + ' of ' + who + ' (no face found in it)';
      slot.replaceWith(el('img', { class: 'face', src: url, alt, dataset: { photo: photo.id } }));
    }, (err) => {
      slot.replaceWith(placeholder(err.status === 403 ? 'Photo hidden for this role' : 'Photo could not be loaded'));
    });
    return fig;
  }

  // localFigure shows a photo chosen in this browser (a query photo).
  function localFigure(url, alt, caption) {
    return el('figure', { class: 'facefig' }, el('img', { class: 'face whole', src: url, alt }), el('figcaption', { text: caption }));
  }

  // ---------------------------------------------------------------- scores

  function percent(p) {
    if (p < 0.001) return 'under 0.1%';
    if (p > 0.999) return 'over 99.9%';
    return (p * 100).toFixed(1) + '%';
  }

  function probabilityBar(p) {
    const fill = el('span', { class: 'fill' });
    fill.style.width = Math.max(0.5, Math.min(100, p * 100)) + '%';
    if (p >= 0.9) fill.classList.add('high');
    else if (p >= 0.5) fill.classList.add('mid');
    return el('div', { class: 'prob' },
      el('span', { class: 'prob-label' }, 'Probability of a match: ', el('strong', { class: 'prob-value', text: percent(p) })),
      el('span', { class: 'bar', 'aria-hidden': 'true' }, fill));
  }

  function signed(w) {
    const s = Math.abs(w).toFixed(1);
    if (w > 0.05) return '+' + s;
    if (w < -0.05) return '−' + s;
    return '±0.0';
  }

  // explanation lists each field's part in the score: a signed weight
  // (arrow, sign and word, as well as colour) and the API's sentence: the
  // detail, or for a key that may not read records only the summary.
  function explanation(contribs) {
    // Family and home fields that neither record has are left out: most
    // records have few of them, and eight lines of "not recorded" hide
    // the fields that count.
    const shown = (contribs || []).filter((c) => !(familyFields.has(c.field) && !c.level &&
      /on either record|none on either|no initial on one record/.test(c.detail || c.summary || '')));
    return el('ul', { class: 'expl' }, shown.map((c) => {
      const dir = c.weight > 0.05 ? 'for' : c.weight < -0.05 ? 'against' : 'neutral';
      const arrow = { for: '▲', against: '▼', neutral: '●' }[dir];
      const word = { for: 'for a match', against: 'against a match', neutral: 'no evidence either way' }[dir];
      return el('li', { class: 'contrib ' + dir, dataset: { field: c.field } },
        el('span', { class: 'weight', title: 'weight ' + signed(c.weight) + ' (log2 units), ' + word },
          el('span', { 'aria-hidden': 'true', text: arrow + ' ' }), signed(c.weight), hiddenText(' ' + word)),
        el('span', { class: 'field', text: (fieldLabel[c.field] || c.field) + ':' }),
        ' ',
        el('span', { class: 'detail', text: sentence(withoutFieldPrefix(c.field, c.detail || c.summary)) }));
    }));
  }

  // withoutFieldPrefix drops a detail's leading "Names: " when the field
  // is already shown beside it.
  function withoutFieldPrefix(field, detail) {
    const m = /^\s*([A-Za-z ]{2,24}):\s+/.exec(detail || '');
    if (m && field && m[1].toLowerCase().startsWith(field.toLowerCase().slice(0, 4))) return detail.slice(m[0].length);
    return detail;
  }

  function sentence(s) {
    s = (s || '').trim();
    if (!s) return 'No detail given.';
    s = s.charAt(0).toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + '.';
  }

  // candidateItem renders one ranked candidate beside the query's face.
  function candidateItem(cand, rank, queryFig) {
    const li = el('li', { class: 'cand', dataset: { id: cand.id, rank } });
    const faces = el('div', { class: 'pair-faces' }, queryFig());
    const head = el('h3', null, el('a', { href: '#/record/' + encodeURIComponent(cand.id) }, rank + '. ' + kindLabel[cand.kind]));
    const facts = el('p', { class: 'facts', text: 'Loading record…' });
    const body = el('div', { class: 'cand-body' }, head, facts, probabilityBar(cand.probability),
      el('p', { class: 'score', text: 'Match weight ' + signed(cand.score) + ' (the sum of the evidence below, in log2 units).' }),
      explanation(cand.explanation));
    li.append(faces, body);
    const candSlot = el('div', { class: 'facefig pending' });
    faces.append(candSlot);
    getChild(cand.id).then((c) => {
      candSlot.replaceWith(faceFigure(c, c ? 'Candidate ' + rank : 'Candidate ' + rank + ' (record hidden)'));
      if (c) {
        head.firstChild.textContent = rank + '. ' + kindLabel[cand.kind] + ': ' + childTitle(c);
        facts.replaceChildren(childFacts(c) || 'No details recorded', ' ', statusBadge(c.status));
      } else {
        facts.textContent = 'Record details hidden for this role (' + cand.id + ').';
      }
    }, (err) => {
      candSlot.replaceWith(placeholder('Record could not be loaded'));
      facts.textContent = describe(err);
    });
    return li;
  }

  function renderCandidates(list, cands, queryFig) {
    list.replaceChildren(...cands.map((c, i) => candidateItem(c, i + 1, queryFig)));
  }

  // ---------------------------------------------------------------- search

  const query = {
    files: [], // {file, url}
    add(files) {
      let refused = 0;
      for (const f of files) {
        if (!f.type.startsWith('image/') && !/\.(jpe?g|png|gif|bmp|webp|tiff?)$/i.test(f.name)) { refused++; continue; }
        if (this.files.length >= MAX_QUERY_PHOTOS) { refused++; continue; }
        this.files.push({ file: f, url: URL.createObjectURL(f) });
      }
      this.render();
      if (refused) showError('search-error', new Error(refused + ' file(s) left out: only images, at most ' + MAX_QUERY_PHOTOS + ' photos per search'));
      else clearError('search-error');
      announce(this.files.length + ' photo(s) chosen.');
    },
    remove(i) {
      URL.revokeObjectURL(this.files[i].url);
      this.files.splice(i, 1);
      this.render();
      announce('Photo removed; ' + this.files.length + ' left.');
      $('photos').focus();
    },
    clear() {
      for (const f of this.files) URL.revokeObjectURL(f.url);
      this.files = [];
      this.render();
    },
    render() {
      $('query-photos').replaceChildren(...this.files.map((f, i) => el('li', { class: 'qphoto' },
        el('img', { src: f.url, alt: 'Query photo ' + (i + 1) + ': ' + f.file.name }),
        el('span', { class: 'qname', text: f.file.name + ' (' + Math.round(f.file.size / 1024) + ' KB)' }),
        el('button', { type: 'button', class: 'secondary small', 'aria-label': 'Remove photo ' + (i + 1) + ' (' + f.file.name + ')', onclick: () => this.remove(i) }, 'Remove'))));
    },
  };

  function searchQuery() {
    const q = { kind: document.querySelector('input[name=kind]:checked').value };
    const names = $('q-names').value.split('\n').map((s) => s.trim()).filter(Boolean);
    if (names.length) q.names = names;
    if ($('q-sex').value) q.sex = $('q-sex').value;
    const lo = $('q-age-min').value.trim(), hi = $('q-age-max').value.trim();
    if (lo || hi) {
      const a = Number(lo || hi), b = Number(hi || lo);
      q.age = { min: a, max: b };
    }
    if ($('q-date').value) q.observed_on = $('q-date').value;
    const place = {};
    if ($('q-state').value.trim()) place.state = $('q-state').value.trim();
    if ($('q-district').value.trim()) place.district = $('q-district').value.trim();
    if (Object.keys(place).length) q.place = place;
    if ($('q-marks').value.trim()) q.marks = $('q-marks').value.trim();
    const guardians = [];
    if ($('q-father').value.trim()) guardians.push({ name: $('q-father').value.trim(), relation: 'father' });
    if ($('q-mother').value.trim()) guardians.push({ name: $('q-mother').value.trim(), relation: 'mother' });
    if (guardians.length) q.guardians = guardians;
    if ($('q-village').value.trim()) q.home = { village: $('q-village').value.trim() };
    if ($('q-clothing').value.trim()) q.clothing = { text: $('q-clothing').value.trim() };
    return q;
  }

  async function runSearch(ev) {
    ev.preventDefault();
    clearError('search-error');
    const q = searchQuery();
    const form = new FormData();
    form.append('query', new Blob([JSON.stringify(q)], { type: 'application/json' }));
    for (const f of query.files) form.append('photo', f.file, f.file.name);
    const status = $('search-status'), list = $('search-results'), button = $('search-submit');
    button.disabled = true;
    status.textContent = 'Searching…';
    list.setAttribute('aria-busy', 'true');
    children = new Map();
    try {
      const res = await api('POST', '/v1/search?limit=' + encodeURIComponent($('q-limit').value), { form });
      const first = query.files[0];
      const queryFig = first
        ? () => localFigure(first.url, 'Query photo 1: ' + first.file.name, 'Query photo')
        : () => el('figure', { class: 'facefig' }, placeholder('No query photo'), el('figcaption', { text: 'Query' }));
      renderCandidates(list, res.candidates, queryFig);
      status.textContent = res.candidates.length
        ? res.candidates.length + ' candidate(s), most likely first.'
        : 'No candidates. Try another photo, or fewer or looser details.';
    } catch (err) {
      status.textContent = 'The search failed.';
      list.replaceChildren();
      showError('search-error', err);
    } finally {
      button.disabled = false;
      list.removeAttribute('aria-busy');
    }
  }

  function setUpSearch() {
    $('search-form').addEventListener('submit', runSearch);
    $('search-form').addEventListener('reset', () => {
      query.clear();
      clearError('search-error');
      $('search-results').replaceChildren();
      $('search-status').textContent = 'Add a photo or some details, then search.';
    });
    $('photos').addEventListener('change', (e) => {
      query.add(Array.from(e.target.files));
      e.target.value = '';
    });
    const zone = $('dropzone');
    zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      query.add(Array.from(e.dataTransfer.files || []));
    });
    // A photo dropped next to the zone must not replace the page.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
  }

  // ---------------------------------------------------------------- record

  function detailList(rows) {
    return el('dl', { class: 'details' }, rows.filter(([, v]) => v !== '' && v !== undefined && v !== null)
      .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', null, v)]));
  }

  function photoItem(child, p, i) {
    const n = child.photos.length;
    const wrap = el('div', { class: 'photo-wrap loading' });
    const faces = p.faces || [];
    const capParts = ['Photo ' + (i + 1) + ' of ' + n];
    if (p.taken_on) capParts.push('taken ' + p.taken_on);
    capParts.push(p.width + '×' + p.height + ' px');
    capParts.push(faces.length === 1 ? '1 face found' : faces.length + ' faces found');
    if (faces.length > 1 && p.subject >= 0) capParts.push('the child’s face has the solid outline');
    if (p.subject < 0) capParts.push('none chosen as the child’s');
    const fig = el('figure', null, wrap, el('figcaption', { text: capParts.join(' · ') }));
    photoURL(p.id).then((url) => {
      wrap.classList.remove('loading');
      wrap.append(el('img', { src: url, alt: 'Photo ' + (i + 1) + ' of ' + n + ' of ' + kindLabel[child.kind] + ' ' + childTitle(child), dataset: { photo: p.id } }));
      faces.forEach((f, fi) => {
        if (!p.width || !p.height) return;
        const [x, y, w, h] = f.box;
        const b = el('span', { class: 'facebox' + (fi === p.subject ? ' subject' : ''), 'aria-hidden': 'true' });
        b.style.left = (100 * x / p.width) + '%';
        b.style.top = (100 * y / p.height) + '%';
        b.style.width = (100 * w / p.width) + '%';
        b.style.height = (100 * h / p.height) + '%';
        wrap.append(b);
      });
    }, (err) => {
      wrap.classList.remove('loading');
      wrap.append(placeholder(err.status === 403 ? 'Photo hidden for this role' : 'Photo could not be loaded'));
    });
    return el('li', null, fig);
  }

  async function showRecord(id) {
    clearError('record-error');
    const body = $('record-body'), photos = $('record-photos'), cands = $('record-candidates');
    body.replaceChildren();
    photos.replaceChildren();
    cands.replaceChildren();
    $('record-title').textContent = 'Record ' + id;
    $('record-status').textContent = 'Loading the record…';
    $('record-cands-status').textContent = '';
    children = new Map();
    let c;
    try {
      c = await getChild(id);
    } catch (err) {
      $('record-status').textContent = 'The record could not be loaded.';
      showError('record-error', err);
      return;
    }
    if (!c) {
      $('record-status').textContent = 'This key’s role may not read records.';
      showError('record-error', new APIError(403, 'forbidden', 'records and photos are for investigator and admin keys'));
      return;
    }
    $('record-title').textContent = kindLabel[c.kind] + ': ' + childTitle(c);
    $('record-status').replaceChildren(statusBadge(c.status));
    const age = ageText(c.age);
    body.append(detailList([
      ['Record id', el('code', { text: c.id })],
      ['External reference', c.external_ref],
      ['Kind', c.kind === 'missing' ? 'reported missing' : 'found'],
      ['Names', (c.names || []).join(' / ')],
      ['Sex', c.sex],
      ['Age', age ? age.replace('age ', '') + ' years' : ''],
      [c.kind === 'missing' ? 'Missing since' : 'Found on', c.observed_on],
      ['Height', c.height_cm ? c.height_cm + ' cm' : ''],
      ['Identifying marks', c.marks],
      ['Languages', (c.languages || []).join(', ')],
      ['Place', [c.place && c.place.district, c.place && c.place.state, c.place && c.place.text].filter(Boolean).join(', ')],
      ['Guardians', guardianText(c.guardians)],
      ['Home', homeText(c.home)],
      [c.kind === 'missing' ? 'Clothing when last seen' : 'Clothing when found', clothingText(c.clothing)],
      ['Descriptors', descriptorsText(c.descriptors)],
      ['Notes', c.notes],
      ['Status', c.status],
      ['Created', fmtTime(c.created_at)],
      ['Updated', fmtTime(c.updated_at)],
    ]));
    if (!(c.photos || []).length) photos.append(el('li', { class: 'help', text: 'No photos on this record.' }));
    else photos.append(...c.photos.map((p, i) => photoItem(c, p, i)));
    $('record-cands-status').textContent = 'Scoring candidates…';
    try {
      const res = await api('GET', '/v1/children/' + encodeURIComponent(id) + '/candidates?limit=10');
      renderCandidates(cands, res.candidates, () => faceFigure(c, 'This record'));
      $('record-cands-status').textContent = res.candidates.length
        ? res.candidates.length + ' candidate(s) of the other kind, most likely first.'
        : 'No candidates of the other kind.';
    } catch (err) {
      $('record-cands-status').textContent = 'Candidates could not be loaded.';
      showError('record-error', err);
    }
  }

  function fmtTime(t) {
    if (!t) return '';
    const d = new Date(t);
    return isNaN(d) ? t : d.toLocaleString();
  }

  // ---------------------------------------------------------------- review

  const queue = {
    items: [],   // {match, li}
    cursor: '',
    current: -1,
    loading: false,
    reset() { this.items = []; this.cursor = ''; this.current = -1; $('queue').replaceChildren(); $('queue-more').hidden = true; },

    async load(more) {
      if (this.loading) return;
      this.loading = true;
      clearError('review-error');
      if (!more) { this.reset(); children = new Map(); }
      $('review-status').textContent = 'Loading matches…';
      try {
        // Each match shown loads two records and two photos, so pages are small.
        let path = '/v1/matches?status=new&limit=' + encodeURIComponent($('queue-size').value);
        if (more && this.cursor) path += '&cursor=' + encodeURIComponent(this.cursor);
        const res = await api('GET', path);
        const start = this.items.length;
        for (const m of res.matches) {
          const li = this.render(m, this.items.length);
          this.items.push({ match: m, li });
          $('queue').append(li);
        }
        this.cursor = res.next_cursor || '';
        $('queue-more').hidden = !this.cursor;
        const open = this.items.filter((x) => !x.decided).length;
        $('review-status').textContent = this.items.length
          ? open + ' match(es) awaiting review' + (this.cursor ? ' on the pages loaded; more below.' : '.')
          : 'No matches are awaiting review.';
        if (this.current < 0 && this.items.length) this.select(0, false);
        else if (more && res.matches.length) this.select(start, true);
      } catch (err) {
        $('review-status').textContent = 'The queue could not be loaded.';
        showError('review-error', err);
      } finally {
        this.loading = false;
      }
    },

    render(m, i) {
      const id = 'match-' + i;
      const li = el('li', { class: 'match', tabindex: '-1', 'aria-labelledby': id + '-h', dataset: { id: m.id } });
      li.addEventListener('focusin', () => this.mark(this.items.findIndex((x) => x.li === li)));
      const side = (kind, childID) => {
        const box = el('div', { class: 'side' },
          el('h3', null, el('a', { href: '#/record/' + encodeURIComponent(childID) }, kindLabel[kind])));
        const facts = el('p', { class: 'facts', text: 'Loading record…' });
        const slot = el('div', { class: 'facefig pending' });
        box.append(slot, facts);
        getChild(childID).then((c) => {
          slot.replaceWith(faceFigure(c, kindLabel[kind]));
          if (c) {
            box.querySelector('h3 a').textContent = kindLabel[kind] + ': ' + childTitle(c);
            facts.replaceChildren(childFacts(c) || 'No details recorded', ' ', statusBadge(c.status));
            if (c.marks) facts.append(el('span', { class: 'marks', text: 'Marks: ' + c.marks }));
          } else facts.textContent = 'Record details hidden for this role.';
        }, (err) => { slot.replaceWith(placeholder('Record could not be loaded')); facts.textContent = describe(err); });
        return box;
      };
      const note = el('textarea', { id: id + '-note', class: 'note', rows: '2', maxlength: '4000' });
      note.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') { e.preventDefault(); li.focus(); }
      });
      const confirm = el('button', { type: 'button', class: 'confirm', onclick: () => this.decide(li, 'confirmed') },
        'Confirm', hiddenText(' match ' + (i + 1)), el('kbd', { 'aria-hidden': 'true', text: 'c' }));
      const reject = el('button', { type: 'button', class: 'reject', onclick: () => this.decide(li, 'rejected') },
        'Reject', hiddenText(' match ' + (i + 1)), el('kbd', { 'aria-hidden': 'true', text: 'r' }));
      li.append(
        el('h2', { id: id + '-h', class: 'match-title' }, 'Match ' + (i + 1) + ' · ' + percent(m.probability)),
        el('div', { class: 'pair' }, side('missing', m.missing_id), side('found', m.found_id)),
        probabilityBar(m.probability),
        el('details', { class: 'why', open: true }, el('summary', null, 'Why these two were paired (' + (m.explanation || []).length + ' fields)'), explanation(m.explanation)),
        el('div', { class: 'decide' },
          el('label', { for: id + '-note' }, 'Note for this decision (optional)', el('kbd', { 'aria-hidden': 'true', text: 'n' })),
          note,
          el('div', { class: 'buttons' }, confirm, reject)),
        el('p', { class: 'decision', hidden: true }));
      return li;
    },

    mark(i) {
      if (i < 0) return;
      this.items.forEach((x, j) => x.li.classList.toggle('current', j === i));
      this.current = i;
    },

    select(i, focus = true) {
      if (!this.items.length) return;
      i = Math.max(0, Math.min(this.items.length - 1, i));
      this.mark(i);
      const li = this.items[i].li;
      if (focus) li.focus({ preventScroll: true });
      li.scrollIntoView({ block: 'nearest' });
    },

    async next() {
      if (this.current >= this.items.length - 1) {
        if (this.cursor) { await this.load(true); return; }
        announce('This is the last match in the queue.');
        return;
      }
      this.select(this.current + 1);
    },

    async decide(li, decision) {
      const i = this.items.findIndex((x) => x.li === li);
      if (i < 0) return;
      const item = this.items[i];
      if (item.decided || item.busy) return;
      item.busy = true;
      clearError('review-error');
      const buttons = li.querySelectorAll('.decide button');
      buttons.forEach((b) => { b.disabled = true; });
      const note = li.querySelector('textarea.note');
      const body = { decision };
      if (note.value.trim()) body.note = note.value.trim();
      try {
        const m = await api('POST', '/v1/matches/' + encodeURIComponent(item.match.id) + '/decision', { json: body });
        item.decided = true;
        li.classList.add('decided', decision);
        li.querySelector('.decide').hidden = true;
        const d = m.decision || { decision, note: body.note };
        const p = li.querySelector('.decision');
        p.hidden = false;
        p.replaceChildren(
          el('strong', { text: decision === 'confirmed' ? '✔ Confirmed' : '✘ Rejected' }),
          d.by ? ' by key ' + d.by : '', d.at ? ' at ' + fmtTime(d.at) : '', '.',
          d.note ? el('span', { class: 'dnote', text: ' Note: “' + d.note + '”.' }) : '',
          decision === 'confirmed' ? ' Both records are now marked matched.' : '');
        if (decision === 'confirmed') {
          for (const b of li.querySelectorAll('.side .badge')) b.replaceWith(statusBadge('matched'));
        }
        announce('Match ' + (i + 1) + ' ' + decision + '.');
        const open = this.items.filter((x) => !x.decided).length;
        $('review-status').textContent = open + ' match(es) awaiting review on the pages loaded.';
        const nextOpen = this.items.findIndex((x, j) => j > i && !x.decided);
        if (nextOpen >= 0) this.select(nextOpen);
        else li.focus();
      } catch (err) {
        buttons.forEach((b) => { b.disabled = false; });
        showError('review-error', err);
      } finally {
        item.busy = false;
      }
    },
  };

  function reviewKeys(e) {
    if (currentView !== 'review' || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    const item = queue.items[queue.current];
    switch (e.key) {
      case 'j': e.preventDefault(); queue.next(); break;
      case 'k': e.preventDefault(); queue.select(queue.current - 1); break;
      case 'c': if (item) { e.preventDefault(); queue.decide(item.li, 'confirmed'); } break;
      case 'r': if (item) { e.preventDefault(); queue.decide(item.li, 'rejected'); } break;
      case 'n':
        // Focus moves on keyup, so the key's own character is not typed
        // into the note.
        if (item && !item.decided) { e.preventDefault(); noteKeyPending = true; }
        break;
      default:
    }
  }

  let noteKeyPending = false;
  function reviewKeyUp(e) {
    if (e.key !== 'n' || !noteKeyPending) return;
    noteKeyPending = false;
    const item = queue.items[queue.current];
    if (currentView === 'review' && item && !item.decided) item.li.querySelector('textarea.note').focus();
  }

  // ---------------------------------------------------------------- jobs

  const jobs = {
    watching: '',
    timer: 0,
    stop() { this.watching = ''; clearTimeout(this.timer); $('job-panel').hidden = true; },

    async start(ev) {
      ev.preventDefault();
      clearError('jobs-error');
      const button = $('rescore-start');
      button.disabled = true;
      try {
        const res = await api('POST', '/v1/jobs/rescore', { json: { full: $('rescore-full').checked } });
        sessionStorage.setItem(JOB_STORE, res.job_id);
        announce('Re-score started.');
        this.watch(res.job_id);
      } catch (err) {
        showError('jobs-error', err, err.status === 403 ? 'Re-scoring needs an admin key: sign out and sign in with one.' : '');
      } finally {
        button.disabled = false;
      }
    },

    watch(id) {
      clearTimeout(this.timer);
      this.watching = id;
      $('job-panel').hidden = false;
      $('job-title').textContent = 'Job ' + id;
      $('job-state').textContent = 'Checking the job…';
      this.poll(id);
    },

    async poll(id) {
      if (this.watching !== id) return;
      let job;
      try {
        job = await api('GET', '/v1/jobs/' + encodeURIComponent(id));
      } catch (err) {
        if (this.watching !== id) return;
        showError('jobs-error', err);
        if (err.status === 0 || err.status === 503) this.timer = setTimeout(() => this.poll(id), POLL_MS * 3);
        else { $('job-state').textContent = 'The job’s progress is not available.'; sessionStorage.removeItem(JOB_STORE); }
        return;
      }
      if (this.watching !== id) return;
      clearError('jobs-error');
      this.render(job);
      if (!['done', 'failed', 'canceled'].includes(job.state)) this.timer = setTimeout(() => this.poll(id), POLL_MS);
    },

    render(job) {
      const bar = $('job-progress');
      const finished = ['done', 'failed', 'canceled'].includes(job.state);
      if (job.total > 0) { bar.max = job.total; bar.value = job.processed; } else if (finished) { bar.max = 1; bar.value = 1; } else bar.removeAttribute('value');
      const pct = job.total > 0 ? ' (' + Math.floor(100 * job.processed / job.total) + '%)' : '';
      $('job-count').textContent = job.total > 0 ? job.processed + ' of ' + job.total + ' processed' + pct : (finished ? '' : 'Counting the work…');
      const words = { queued: 'Queued: waiting to start.', running: 'Running.', done: 'Done.', failed: 'Failed.', canceled: 'Canceled.' };
      const st = $('job-state');
      st.dataset.state = job.state;
      st.textContent = 'State: ' + (words[job.state] || job.state) + (job.full ? ' Every pair is re-scored.' : ' Only changed records are re-scored.');
      if (job.state === 'failed' && job.error) showError('jobs-error', new Error('The job failed: ' + job.error));
      $('job-cancel').hidden = finished;
      const sum = $('job-summary');
      if (job.summary) {
        const s = job.summary;
        sum.hidden = false;
        sum.replaceChildren(...[
          ['Took', s.duration_seconds.toFixed(1) + ' s'],
          ['Pairs scored', s.pairs_scored],
          ['Pairs skipped (unchanged)', s.pairs_skipped],
          ['New matches', s.matches_new],
          ['Matches more likely', s.matches_up],
          ['Matches less likely', s.matches_down],
        ].flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
        if (job.state === 'done') sum.append(el('dt', { text: 'Next' }), el('dd', null, el('a', { href: '#/review' }, 'Open the review queue')));
      } else {
        sum.hidden = true;
        sum.replaceChildren();
      }
      if (finished) announce('Job ' + job.state + '.');
    },

    async cancel() {
      const id = this.watching;
      if (!id) return;
      try {
        this.render(await api('POST', '/v1/jobs/' + encodeURIComponent(id) + '/cancel'));
      } catch (err) {
        showError('jobs-error', err);
      }
    },
  };

  // ---------------------------------------------------------------- routing

  let currentView = '';

  function onUnauthorized(err) {
    session.clear();
    forgetEverything();
    route();
    showError('signin-error', err);
  }

  function showView(name, focusHeading) {
    currentView = name;
    for (const v of document.querySelectorAll('main > .view')) v.hidden = v.id !== 'view-' + name;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const signedIn = !!session.key();
    $('nav').hidden = !signedIn;
    $('session').hidden = !signedIn;
    const h = document.querySelector('#view-' + name + ' h1');
    document.title = (h ? h.textContent + ' — ' : '') + 'trackmatch';
    if (focusHeading && h) h.focus();
  }

  function route(fromNavigation) {
    if (!session.key()) {
      showView('signin', false);
      $('key-input').focus();
      return;
    }
    const hash = location.hash.replace(/^#\/?/, '');
    const [view, ...rest] = hash.split('/');
    switch (view) {
      case 'record':
        showView('record', fromNavigation);
        showRecord(decodeURIComponent(rest.join('/')));
        break;
      case 'review':
        showView('review', fromNavigation);
        queue.load(false);
        break;
      case 'jobs': {
        showView('jobs', fromNavigation);
        const id = sessionStorage.getItem(JOB_STORE);
        if (id && jobs.watching !== id) jobs.watch(id);
        break;
      }
      default:
        showView('search', fromNavigation);
    }
  }

  async function signIn(ev) {
    ev.preventDefault();
    clearError('signin-error');
    const input = $('key-input');
    const k = input.value.trim();
    if (k.length < 16) {
      showError('signin-error', new Error('An API key is at least 16 characters long'));
      input.focus();
      return;
    }
    session.set(k);
    let role = '';
    try {
      // One cheap read tells a mistyped key (401) from a portal key (403).
      await api('GET', '/v1/matches?limit=1');
    } catch (err) {
      if (err.status === 401) { input.focus(); return; } // onUnauthorized showed it
      if (err.status === 403) role = ' (portal role: records and photos are hidden)';
    }
    input.value = '';
    const id = await keyID(k);
    $('session-label').textContent = (id ? 'Key ' + id : 'Key in use') + role;
    sessionStorage.setItem(KEY_STORE + '.label', $('session-label').textContent);
    if (!location.hash || location.hash === '#') location.hash = '#/search';
    route(true);
  }

  function signOut() {
    session.clear();
    sessionStorage.removeItem(KEY_STORE + '.label');
    forgetEverything();
    announce('Signed out. The key was forgotten.');
    route();
  }

  function init() {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    $('rescore-form').addEventListener('submit', (e) => jobs.start(e));
    $('job-cancel').addEventListener('click', () => jobs.cancel());
    $('queue-more').addEventListener('click', () => queue.load(true));
    $('queue-reload').addEventListener('click', () => queue.load(false));
    $('queue-size').addEventListener('change', () => queue.load(false));
    document.addEventListener('keydown', reviewKeys);
    document.addEventListener('keyup', reviewKeyUp);
    setUpSearch();
    const label = sessionStorage.getItem(KEY_STORE + '.label');
    if (label) $('session-label').textContent = label;
    // Only #/… fragments are routes; others (the skip link's #main) are
    // ordinary in-page links.
    window.addEventListener('hashchange', () => { if (location.hash.startsWith('#/') || !location.hash) route(true); });
    route(false);
  }

  init();
})();
