// SonoSeg reading room: the browser workstation of `sonoseg serve`.
// Plain JavaScript, no framework, no build step. The page talks to the API in docs/api/openapi.yaml.
// Research use only. Not a medical device.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };

  // ---------------------------------------------------------------------------------------------
  // State
  const store = {
    get(k, d) { try { return localStorage.getItem(k) ?? d; } catch { return d; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
  };
  const state = {
    token: (() => { try { return sessionStorage.getItem('sonoseg.token') || ''; } catch { return ''; } })(),
    root: '',
    items: [],
    reports: [],
    signature: '',
    sortKey: 'input',
    sortDir: 1,
    filterText: '',
    filterStatus: '',
    thumbs: new Map(), // id -> blob: URL, or '' while loading
    thumbQueue: [],
    thumbActive: 0,
    refreshTimer: null,
    models: null,
    modelsPromise: null,
    view: null, // the open item, see openItem
    openSeq: 0,
    currentId: null,
    pendingStatus: null,
  };

  // ---------------------------------------------------------------------------------------------
  // HTTP: every call carries the token; a 401 asks for it and retries.
  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  let tokenPromise = null;
  let tokenResolve = null;

  function askToken(message) {
    if (!tokenPromise) {
      tokenPromise = new Promise((resolve) => { tokenResolve = resolve; });
      document.body.classList.add('need-token');
      $('token-view').classList.remove('hidden');
      $('worklist-view').classList.add('hidden');
      $('viewer').classList.add('hidden');
      $('token-input').value = '';
      setTimeout(() => $('token-input').focus(), 0);
    }
    const err = $('token-error');
    err.textContent = message || '';
    err.classList.toggle('hidden', !message);
    return tokenPromise;
  }

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    if (!t) return;
    state.token = t;
    try { sessionStorage.setItem('sonoseg.token', t); } catch { /* ignore */ }
    $('token-view').classList.add('hidden');
    document.body.classList.remove('need-token');
    const resolve = tokenResolve;
    tokenPromise = null;
    tokenResolve = null;
    showCurrentView();
    if (resolve) resolve();
    establishSession();
  });

  async function api(path, opts = {}) {
    for (let busy = 0; ; ) {
      const headers = new Headers(opts.headers || {});
      if (state.token) headers.set('Authorization', 'Bearer ' + state.token);
      let res;
      try {
        res = await fetch(path, { ...opts, headers });
      } catch (e) {
        throw new HttpError(0, 'the server did not answer (' + e.message + ')');
      }
      if (res.status === 401) {
        await askToken(state.token ? 'That token was not accepted.' : '');
        continue;
      }
      if (res.status === 503 && busy < 5) {
        // the inference queue is full: wait as long as Retry-After says (at most 10 s) and ask again
        busy++;
        const wait = Math.min(10, Math.max(1, Number(res.headers.get('Retry-After')) || 2));
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      if (!res.ok) {
        let msg = res.status + ' ' + res.statusText;
        try {
          const j = await res.json();
          if (j && j.error) msg = j.error;
        } catch { /* not JSON */ }
        throw new HttpError(res.status, msg);
      }
      return res;
    }
  }
  const apiJSON = async (path, opts) => (await api(path, opts)).json();

  async function decodeBlob(blob) {
    // No colour management: the grey values of masks and probabilities must arrive unchanged.
    return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  }
  async function fetchPixels(path) {
    const blob = await (await api(path)).blob();
    const bmp = await decodeBlob(blob);
    const c = document.createElement('canvas');
    c.width = bmp.width;
    c.height = bmp.height;
    const cx = c.getContext('2d', { willReadFrequently: true });
    cx.drawImage(bmp, 0, 0);
    const data = cx.getImageData(0, 0, c.width, c.height).data;
    return { bitmap: bmp, canvas: c, data, width: c.width, height: c.height };
  }
  function greyToBinary(px, w, h) {
    const out = new Uint8Array(w * h);
    const d = px.data;
    for (let i = 0, j = 0; i < out.length; i++, j += 4) out[i] = (d[j] | d[j + 1] | d[j + 2]) > 127 ? 1 : 0;
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Formatting
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  // probabilities: two decimals, never a rounded certainty (0.9999 reads "> 0.99", not "1.00")
  const fmtP = (v) => (!isNum(v) ? '—' : v >= 0.995 && v < 1 ? '> 0.99' : v > 0 && v < 0.005 ? '< 0.01' : v.toFixed(2));
  const fmtT = (v) => (isNum(v) ? String(Number(v.toFixed(3))) : '—'); // thresholds: 0.785, 0.5
  const fmt1 = (v) => (isNum(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) : '—');
  const fmtDate = (s) => {
    if (!s) return '';
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return s;
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  };
  const itemLabel = (it) => (it.frame ? `${it.input} · frame ${it.frame}` : it.input);

  function setStatus(text, kind) {
    const s = $('status-line');
    s.textContent = text || '';
    s.className = kind || '';
  }

  // ---------------------------------------------------------------------------------------------
  // Reader name, remembered
  const readerInput = $('reader-name');
  readerInput.value = store.get('sonoseg.reader', '');
  readerInput.addEventListener('input', () => store.set('sonoseg.reader', readerInput.value.trim()));

  // ---------------------------------------------------------------------------------------------
  // Worklist
  const statusOrder = { new: 0, reviewed: 1, corrected: 2 };
  const sorters = {
    input: (it) => itemLabel(it).toLowerCase(),
    status: (it) => statusOrder[it.status] ?? 9,
    lesion_probability: (it) => it.lesion_probability,
    pathology: (it) => (it.pathology ? it.pathology + ' ' + (isNum(it.malignancy_probability) ? it.malignancy_probability.toFixed(4) : '') : null),
    birads: (it) => it.birads,
    reader: (it) => (it.reader ? it.reader.toLowerCase() : null),
  };
  function compareValues(a, b) {
    const an = a === null || a === undefined || a === '';
    const bn = b === null || b === undefined || b === '';
    if (an || bn) return an && bn ? 0 : an ? 1 : -1; // empty last, whichever direction
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }
  function sortedItems() {
    const key = sorters[state.sortKey] || sorters.input;
    const dir = state.sortDir;
    return state.items
      .map((it, i) => ({ it, i }))
      .sort((x, y) => {
        const a = key(x.it);
        const b = key(y.it);
        const an = a === null || a === undefined || a === '';
        const bn = b === null || b === undefined || b === '';
        let c = an || bn ? compareValues(a, b) : dir * compareValues(a, b);
        if (c === 0) c = compareValues(sorters.input(x.it), sorters.input(y.it)) || x.i - y.i;
        return c;
      })
      .map((x) => x.it);
  }
  function visibleItems() {
    const q = state.filterText.trim().toLowerCase();
    const st = state.filterStatus;
    return sortedItems().filter((it) => {
      if (st && it.status !== st) return false;
      if (!q) return true;
      const hay = [it.input, it.stem, it.status, it.pathology, it.birads ? 'birads ' + it.birads : '', it.reader]
        .filter(Boolean).join(' ').toLowerCase();
      return q.split(/\s+/).every((w) => hay.includes(w));
    });
  }

  async function loadWorklist() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = null;
    let data;
    try {
      data = await apiJSON('/v1/worklist');
    } catch (e) {
      $('upload-status').textContent = 'Could not load the worklist: ' + e.message;
      state.refreshTimer = setTimeout(loadWorklist, 5000);
      return;
    }
    state.root = data.root || '';
    state.items = Array.isArray(data.items) ? data.items : [];
    state.reports = Array.isArray(data.reports) ? data.reports : [];
    $('root-name').textContent = state.root ? 'root: ' + state.root : '';
    renderWorklist();
    if (state.view) updatePosition();
    if (state.items.some((it) => !it.segmented)) state.refreshTimer = setTimeout(loadWorklist, 3000);
  }

  function renderWorklist(force) {
    const list = visibleItems();
    const sig = JSON.stringify([list, state.sortKey, state.sortDir, state.currentId, state.reports]);
    if (!force && sig === state.signature) return;
    state.signature = sig;

    document.querySelectorAll('#worklist th.sortable').forEach((th) => {
      th.classList.toggle('sorted-asc', th.dataset.sort === state.sortKey && state.sortDir > 0);
      th.classList.toggle('sorted-desc', th.dataset.sort === state.sortKey && state.sortDir < 0);
      th.setAttribute('aria-sort', th.dataset.sort === state.sortKey ? (state.sortDir > 0 ? 'ascending' : 'descending') : 'none');
    });

    const body = $('worklist-body');
    const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
    const frag = document.createDocumentFragment();
    for (const it of list) {
      const tr = el('tr', 'item');
      tr.dataset.id = it.id;
      tr.tabIndex = 0;
      if (it.id === state.currentId) tr.classList.add('current');

      const tdT = el('td', 'col-thumb');
      const url = state.thumbs.get(it.id);
      if (url) {
        const img = el('img', 'thumb');
        img.alt = '';
        img.src = url;
        img.dataset.thumb = it.id;
        tdT.append(img);
      } else {
        const ph = el('div', 'thumb-empty');
        ph.dataset.thumb = it.id;
        tdT.append(ph);
        queueThumb(it);
      }
      tr.append(tdT);

      const tdI = el('td');
      tdI.append(el('div', 'path', itemLabel(it)));
      if (isNum(it.width) && isNum(it.height)) tdI.append(el('div', 'sub', `${it.width} × ${it.height} px`));
      tr.append(tdI);

      const tdS = el('td');
      tdS.append(el('span', 'badge ' + (it.status || ''), it.status || '?'));
      tr.append(tdS);

      const pending = !it.segmented;
      const tdP = el('td', 'num');
      if (pending) tdP.append(el('span', 'pending', '…'));
      else {
        tdP.append(document.createTextNode(fmtP(it.lesion_probability)));
        if (it.lesion_found === false) tdP.append(el('div', 'sub', 'no lesion'));
      }
      tr.append(tdP);

      const tdD = el('td');
      if (pending) tdD.append(el('span', 'pending', '…'));
      else if (it.pathology) {
        tdD.append(el('span', it.pathology === 'malignant' ? 'malignant' : '', it.pathology));
        if (isNum(it.malignancy_probability)) tdD.append(el('div', 'sub', 'p malignant ' + fmtP(it.malignancy_probability)));
      } else tdD.append(el('span', 'muted', '—'));
      tr.append(tdD);

      const tdB = el('td');
      tdB.append(pending ? el('span', 'pending', '…') : document.createTextNode(it.birads || '—'));
      tr.append(tdB);

      const tdR = el('td');
      if (it.reader) tdR.append(el('div', '', it.reader));
      if (it.reviewed_at) tdR.append(el('div', 'sub', fmtDate(it.reviewed_at)));
      tr.append(tdR);

      frag.append(tr);
    }
    body.replaceChildren(frag);
    if (focusedId) {
      const row = body.querySelector(`tr.item[data-id="${CSS.escape(focusedId)}"]`);
      if (row) row.focus({ preventScroll: true });
    }

    const total = state.items.length;
    const pendingCount = state.items.filter((it) => !it.segmented).length;
    $('worklist-count').textContent =
      (list.length === total ? `${total} image${total === 1 ? '' : 's'}` : `${list.length} of ${total} images`) +
      (pendingCount ? ` · ${pendingCount} being segmented…` : '');
    $('worklist-empty').classList.toggle('hidden', total > 0);

    const rep = $('reports');
    rep.replaceChildren();
    if (state.reports.length) {
      rep.append(el('span', 'muted', 'Reports: '));
      for (const url of state.reports) {
        const a = el('a', '', decodeURIComponent(url.replace(/^\/files\//, '')));
        a.href = url;
        a.target = '_blank';
        a.rel = 'noopener';
        rep.append(a);
      }
    }
    rep.classList.toggle('hidden', !state.reports.length);
  }

  // A report is a plain link: with a token, POST /v1/session has put it in an HttpOnly, SameSite=Strict cookie,
  // which the browser sends with the report and its pictures (a link cannot carry an Authorization header).
  async function establishSession() {
    if (!state.token) return;
    try { await api('/v1/session', { method: 'POST' }); } catch { /* the API calls still carry the header */ }
  }

  function queueThumb(it) {
    if (state.thumbs.has(it.id)) return;
    state.thumbs.set(it.id, '');
    state.thumbQueue.push(it);
    pumpThumbs();
  }
  function pumpThumbs() {
    while (state.thumbActive < 4 && state.thumbQueue.length) {
      const it = state.thumbQueue.shift();
      state.thumbActive++;
      api(it.thumbnail_url || `/v1/items/${encodeURIComponent(it.id)}/thumbnail`)
        .then((r) => r.blob())
        .then((b) => {
          const url = URL.createObjectURL(b);
          state.thumbs.set(it.id, url);
          document.querySelectorAll(`[data-thumb="${CSS.escape(it.id)}"]`).forEach((node) => {
            const img = el('img', 'thumb');
            img.alt = '';
            img.src = url;
            img.dataset.thumb = it.id;
            node.replaceWith(img);
          });
        })
        .catch(() => { state.thumbs.delete(it.id); })
        .finally(() => { state.thumbActive--; pumpThumbs(); });
    }
  }

  document.querySelectorAll('#worklist th.sortable').forEach((th) => {
    th.tabIndex = 0;
    const sortBy = () => {
      const k = th.dataset.sort;
      if (state.sortKey === k) state.sortDir = -state.sortDir;
      else { state.sortKey = k; state.sortDir = k === 'lesion_probability' ? -1 : 1; }
      renderWorklist(true);
    };
    th.addEventListener('click', sortBy);
    th.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sortBy(); } });
  });
  $('filter-text').addEventListener('input', (ev) => { state.filterText = ev.target.value; renderWorklist(true); });
  $('filter-status').addEventListener('change', (ev) => { state.filterStatus = ev.target.value; renderWorklist(true); });
  $('worklist-body').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr.item');
    if (tr) goItem(tr.dataset.id);
  });
  $('worklist-body').addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr.item');
    if (!tr) return;
    if (ev.key === 'Enter') { ev.preventDefault(); goItem(tr.dataset.id); }
    else if (ev.key === 'ArrowDown' && tr.nextElementSibling) { ev.preventDefault(); tr.nextElementSibling.focus(); }
    else if (ev.key === 'ArrowUp' && tr.previousElementSibling) { ev.preventDefault(); tr.previousElementSibling.focus(); }
  });

  // Uploads: the file picker and drag-and-drop anywhere on the page.
  async function uploadFiles(files) {
    files = Array.from(files || []);
    if (!files.length) return;
    const status = $('upload-status');
    let added = 0;
    const errors = [];
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      status.textContent = `Uploading ${i + 1} of ${files.length}: ${f.name}…`;
      try {
        const res = await apiJSON('/v1/uploads?filename=' + encodeURIComponent(f.name), {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: f,
        });
        added += Array.isArray(res.items) ? res.items.length : 1;
      } catch (e) {
        errors.push(`${f.name}: ${e.message}`);
      }
    }
    status.textContent =
      (added ? `Added ${added} image${added === 1 ? '' : 's'}.` : '') +
      (errors.length ? (added ? ' ' : '') + 'Not added: ' + errors.join('; ') : '');
    status.classList.toggle('error', errors.length > 0);
    await loadWorklist();
  }
  $('upload-input').addEventListener('change', (ev) => {
    const files = Array.from(ev.target.files || []);
    ev.target.value = '';
    uploadFiles(files);
  });
  let dragDepth = 0;
  const hasFiles = (ev) => ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
  document.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    dragDepth++;
    $('drop-overlay').classList.remove('hidden');
  });
  document.addEventListener('dragover', (ev) => { if (hasFiles(ev)) { ev.preventDefault(); ev.dataTransfer.dropEffect = 'copy'; } });
  document.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) $('drop-overlay').classList.add('hidden');
  });
  document.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    dragDepth = 0;
    $('drop-overlay').classList.add('hidden');
    if (state.view) goWorklist();
    uploadFiles(ev.dataTransfer.files);
  });

  // ---------------------------------------------------------------------------------------------
  // Routing: #/ is the worklist, #/item/ID an image.
  function currentRoute() {
    const m = location.hash.match(/^#\/item\/([^/?#]+)/);
    return m ? { item: decodeURIComponent(m[1]) } : { item: null };
  }
  function showCurrentView() {
    if (tokenPromise) return;
    const r = currentRoute();
    $('worklist-view').classList.toggle('hidden', !!r.item);
    $('viewer').classList.toggle('hidden', !r.item);
    if (r.item) requestAnimationFrame(resizeCanvas);
  }
  function route() {
    const r = currentRoute();
    showCurrentView();
    if (r.item) {
      if (!state.view || state.view.id !== r.item) openItem(r.item);
    } else {
      closeViewer();
      loadWorklist();
    }
  }
  window.addEventListener('hashchange', route);

  function goItem(id) { location.hash = '#/item/' + encodeURIComponent(id); }
  function goWorklist() {
    if (!guardUnsaved()) return;
    location.hash = '#/';
  }
  // Leaving an image with unsaved changes takes a second press.
  let discardArmedUntil = 0;
  function guardUnsaved() {
    const v = state.view;
    if (!v || !v.mask || !isDirty()) return true;
    if (Date.now() < discardArmedUntil) { discardArmedUntil = 0; return true; }
    discardArmedUntil = Date.now() + 4000;
    setStatus('Unsaved changes: Save them, or repeat to leave without saving.', 'warn');
    return false;
  }
  window.addEventListener('beforeunload', (ev) => {
    if (state.view && state.view.mask && isDirty()) { ev.preventDefault(); ev.returnValue = ''; }
  });

  function neighbour(step) {
    const v = state.view;
    if (!v) return null;
    let list = visibleItems();
    let i = list.findIndex((it) => it.id === v.id);
    if (i < 0) { list = sortedItems(); i = list.findIndex((it) => it.id === v.id); }
    if (i < 0) return null;
    const j = i + step;
    return j >= 0 && j < list.length ? list[j] : null;
  }
  function goNeighbour(step) {
    const n = neighbour(step);
    if (!n) { setStatus(step > 0 ? 'This is the last image.' : 'This is the first image.', ''); return; }
    if (!guardUnsaved()) return;
    goItem(n.id);
  }

  // ---------------------------------------------------------------------------------------------
  // Viewer
  const canvas = $('scan-canvas');
  const ctx = canvas.getContext('2d');
  let dpr = window.devicePixelRatio || 1;

  const viewerUI = {
    tool: 'pan',
    showOutline: true,
    showCalipers: true,
    showHeat: false,
    heatOpacity: 0.5,
    brush: Number(store.get('sonoseg.brush', '12')) || 12,
  };

  function closeViewer() {
    state.openSeq++;
    state.view = null;
    canvas.dataset.state = 'empty';
  }

  async function openItem(id) {
    const seq = ++state.openSeq;
    const known = state.items.find((it) => it.id === id);
    state.currentId = id;
    state.view = {
      id,
      item: known || { id, input: id },
      detail: null,
      w: 0, h: 0,
      scan: null, mask: null, savedMask: null, modelMask: null,
      heat: null, heatLoading: false,
      maskCanvas: null, maskImage: null, outline: null, maskDirty: true,
      lesions: [], measure: null,
      undo: [], redo: [],
      s: 1, tx: 0, ty: 0, fitted: false,
      pointer: null,
    };
    discardArmedUntil = 0;
    canvas.dataset.state = 'loading';
    $('item-title').textContent = known ? itemLabel(known) : id;
    $('item-status').textContent = known ? known.status : '';
    $('item-status').className = 'badge ' + (known ? known.status : '');
    $('diagnosis').replaceChildren(el('div', 'muted', 'Loading…'));
    $('measurements').replaceChildren();
    $('measure-state').textContent = '';
    setStatus(state.pendingStatus ? state.pendingStatus.text : '', state.pendingStatus ? state.pendingStatus.kind : '');
    state.pendingStatus = null;
    updatePosition();
    updateUndoButtons();
    stageMessage(known && !known.segmented ? 'Segmenting…' : 'Loading…');
    render();
    if (!state.items.length) loadWorklist();
    ensureModels();

    try {
      const detail = await apiJSON('/v1/items/' + encodeURIComponent(id));
      if (seq !== state.openSeq) return;
      const v = state.view;
      v.detail = detail;
      v.item = detail;
      $('item-title').textContent = itemLabel(detail);
      $('item-status').textContent = detail.status;
      $('item-status').className = 'badge ' + detail.status;
      const enc = encodeURIComponent(id);
      const imageURL = detail.image_url || `/v1/items/${enc}/image`;
      const maskURL = detail.mask_url || `/v1/items/${enc}/mask`;
      const modelMaskURL = detail.model_mask_url || `/v1/items/${enc}/mask?source=model`;
      const reviewed = !!detail.review || (detail.status && detail.status !== 'new');
      const [scan, mask, modelMask] = await Promise.all([
        fetchPixels(imageURL),
        fetchPixels(maskURL),
        reviewed && modelMaskURL !== maskURL ? fetchPixels(modelMaskURL) : Promise.resolve(null),
      ]);
      if (seq !== state.openSeq) return;
      v.w = scan.width;
      v.h = scan.height;
      v.scan = scan.canvas;
      if (mask.width !== v.w || mask.height !== v.h) throw new Error(`the mask is ${mask.width}×${mask.height}, the image ${v.w}×${v.h}`);
      v.mask = greyToBinary(mask, v.w, v.h);
      v.savedMask = v.mask.slice();
      v.modelMask = modelMask ? greyToBinary(modelMask, v.w, v.h) : v.mask.slice();
      v.maskCanvas = document.createElement('canvas');
      v.maskCanvas.width = v.w;
      v.maskCanvas.height = v.h;
      v.maskImage = v.maskCanvas.getContext('2d').createImageData(v.w, v.h);
      v.maskDirty = true;
      const row = detail.result || {};
      v.lesions = Array.isArray(row.lesions) ? row.lesions : [];
      v.measure = null;
      stageMessage(null);
      fitView();
      renderDiagnosis();
      renderMeasurements();
      render();
      canvas.dataset.state = 'ready';
      if (!sameMask(v.mask, v.modelMask)) measureNow(); // a saved correction: measure what is shown
      if (viewerUI.showHeat) loadHeat();
      // refresh the list entry (status, diagnosis) from the detail
      const li = state.items.findIndex((it) => it.id === id);
      if (li >= 0) for (const k of Object.keys(state.items[li])) if (k in detail) state.items[li][k] = detail[k];
    } catch (e) {
      if (seq !== state.openSeq) return;
      canvas.dataset.state = 'error';
      stageMessage('Could not open this image: ' + e.message);
      $('diagnosis').replaceChildren(el('div', 'error', e.message), researchLine());
    }
  }

  function stageMessage(text) {
    const m = $('stage-message');
    m.textContent = text || '';
    m.classList.toggle('hidden', !text);
  }
  function updatePosition() {
    const v = state.view;
    const list = visibleItems();
    const i = v ? list.findIndex((it) => it.id === v.id) : -1;
    $('item-position').textContent = i >= 0 ? `${i + 1} / ${list.length}` : '';
    $('prev').disabled = !neighbour(-1);
    $('next').disabled = !neighbour(1);
  }

  function researchLine() { return el('div', 'research', 'Research use only. Not a medical device.'); }

  function kvList(rows) {
    const dl = el('dl', 'kv');
    for (const [k, val, cls] of rows) {
      const dt = el('dt', cls || '', k);
      const dd = el('dd');
      if (val instanceof Node) dd.append(val); else dd.textContent = val;
      dl.append(dt, dd);
    }
    return dl;
  }
  function valueWithP(main, pLabel, p) {
    const span = el('span', '', main);
    if (isNum(p)) span.append(' ', el('span', 'prob', `${pLabel} ${fmtP(p)}`));
    return span;
  }

  function renderDiagnosis() {
    const v = state.view;
    if (!v || !v.detail) return;
    const r = v.detail.result || {};
    const lp = r.lesion_probability ?? v.detail.lesion_probability;
    const found = r.lesion_found ?? v.detail.lesion_found;
    const rows = [];
    const cut = r.presence_threshold;
    let presence = found === true ? 'lesion present' : found === false ? 'no lesion' : '—';
    // the segmenter may outline nothing where the presence model still calls a lesion likely
    if (found === false && isNum(lp) && isNum(cut) && lp >= cut) presence = 'none outlined';
    const pres = valueWithP(presence, 'p', lp);
    if (isNum(r.presence_threshold)) pres.append(el('span', 'prob', ` (cut-off ${fmtT(r.presence_threshold)})`));
    rows.push(['Lesion', pres]);
    if (found === false && isNum(r.suppressed_area_px) && r.suppressed_area_px > 0) {
      rows.push(['Suppressed', `an outline of ${r.suppressed_area_px} px was drawn below the cut-off`]);
    }
    const path = r.pathology ?? v.detail.pathology;
    rows.push(['Pathology', valueWithP(path || '—', 'p malignant', r.malignancy_probability ?? v.detail.malignancy_probability)]);
    const birads = r.birads ?? v.detail.birads;
    rows.push(['BI-RADS', valueWithP(birads || '—', 'p', r.birads_probability)]);
    const model = r.model ? String(r.model).split('/').filter(Boolean).slice(-2).join('/') : '—';
    const modelSpan = el('span', '', model);
    modelSpan.title = r.model || '';
    if (isNum(r.threshold)) modelSpan.append(' ', el('span', 'prob', `threshold ${fmtT(r.threshold)}`));
    rows.push(['Model', modelSpan]);
    $('diagnosis').replaceChildren(kvList(rows), researchLine());
  }

  function renderMeasurements() {
    const v = state.view;
    if (!v || !v.detail) return;
    const r = v.detail.result || {};
    const m = v.measure; // the last /measure answer, else the model's row
    const src = m || r;
    const lesions = Array.isArray(src.lesions) ? src.lesions : [];
    const L = lesions[0] || (m ? {} : r);
    const found = m ? lesions.length > 0 || (isNum(m.area_px) && m.area_px > 0) : isNum(r.area_px) && r.area_px > 0;
    const spacing = Array.isArray(v.detail.pixel_spacing_mm) ? v.detail.pixel_spacing_mm : null;
    const pxs = (px) => (Number.isInteger(px) || px >= 100 ? String(Math.round(px)) : px.toFixed(1));
    const len = (mm, px) => (isNum(mm) ? `${fmt1(mm)} mm` : isNum(px) ? `${pxs(px)} px` : '—');
    const area = (mm2, px) => (isNum(mm2) ? `${fmt1(mm2)} mm²` : isNum(px) ? `${Math.round(px)} px²` : '—');
    const box = $('measurements');
    if (!found) {
      box.replaceChildren(el('div', 'muted', 'No lesion outlined.'));
      return;
    }
    const long = el('span', '', len(L.max_diameter_mm, L.max_diameter_px));
    const short = el('span', '', len(L.short_axis_mm, L.short_axis_px));
    let ttw = '—';
    if (isNum(L.taller_than_wide)) ttw = `${L.taller_than_wide.toFixed(2)} · ${L.taller_than_wide > 1 ? 'taller than wide' : 'wider than tall'}`;
    const rows = [
      ['Long axis', long, 'caliper-long'],
      ['Short axis', short, 'caliper-short'],
      ['Area', area(src.area_mm2, src.area_px)],
      ['Depth', len(L.depth_mm, L.depth_px)],
      ['Taller/wide', ttw],
    ];
    const n = lesions.length || (isNum(r.components) ? r.components : null);
    if (n !== null && n !== undefined) rows.push(['Lesions', String(n)]);
    rows.push(['Scale', spacing ? `${spacing.map((s) => Number(s).toPrecision(3)).join(' × ')} mm/px` +
      (src.spacing_source || r.spacing_source ? ` (${src.spacing_source || r.spacing_source})` : '') : 'not calibrated: px']);
    const nodes = [kvList(rows)];
    if (lesions.length > 1) {
      const ul = el('ul', 'lesion-list');
      lesions.slice(1, 8).forEach((l, i) => {
        ul.append(el('li', '', `#${l.lesion ?? i + 2}: ${len(l.max_diameter_mm, l.max_diameter_px)} × ${len(l.short_axis_mm, l.short_axis_px)}, ${area(l.area_mm2, l.area_px)}`));
      });
      nodes.push(ul);
    }
    box.replaceChildren(...nodes);
  }

  // Models and their cards
  function ensureModels() {
    if (!state.modelsPromise) {
      state.modelsPromise = apiJSON('/v1/models')
        .then((m) => { state.models = m; renderModels(); return m; })
        .catch((e) => { state.modelsPromise = null; $('models').replaceChildren(el('div', 'error', e.message)); });
    } else if (state.models) renderModels();
    return state.modelsPromise;
  }
  function renderModels() {
    const box = $('models');
    const m = state.models;
    if (!m) return;
    const nodes = [];
    (m.models || []).forEach((md) => {
      const d = el('div', 'model');
      d.append(el('div', 'role', md.role || 'model'));
      const name = el('div', 'name', md.name || md.path || '');
      name.title = md.path || '';
      d.append(name);
      if (isNum(md.threshold)) d.append(el('div', 'sub', `threshold ${fmtT(md.threshold)}`));
      if (md.sha256) { const s = el('div', 'sub', 'sha256 ' + String(md.sha256).slice(0, 12) + '…'); s.title = md.sha256; d.append(s); }
      if (md.card_url) {
        const b = el('button', '', 'Model card');
        b.type = 'button';
        b.addEventListener('click', () => showCard(md));
        d.append(b);
      }
      nodes.push(d);
    });
    if (m.notice) nodes.push(el('div', 'sub', m.notice));
    box.replaceChildren(...nodes);
  }
  async function showCard(md) {
    const dlg = $('card-dialog');
    $('card-title').textContent = 'Model card: ' + (md.name || md.path || '');
    $('card-text').textContent = 'Loading…';
    if (!dlg.open) dlg.showModal();
    try {
      $('card-text').textContent = await (await api(md.card_url)).text();
    } catch (e) {
      $('card-text').textContent = 'Could not load the model card: ' + e.message;
    }
  }
  $('card-close').addEventListener('click', () => $('card-dialog').close());

  // ---------------------------------------------------------------------------------------------
  // Heat map: the probability PNG through an inferno colour map, transparent where the probability is low.
  const INFERNO = [
    [0, 0, 0, 4], [0.13, 31, 12, 72], [0.25, 85, 15, 109], [0.38, 136, 34, 106], [0.5, 186, 54, 85],
    [0.63, 227, 89, 51], [0.75, 249, 140, 10], [0.88, 249, 201, 50], [1, 252, 255, 164],
  ];
  const LUT = (() => {
    const lut = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) {
      const t = i / 255;
      let k = 0;
      while (k < INFERNO.length - 2 && t > INFERNO[k + 1][0]) k++;
      const [t0, r0, g0, b0] = INFERNO[k];
      const [t1, r1, g1, b1] = INFERNO[k + 1];
      const f = Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
      lut[i * 4] = r0 + f * (r1 - r0);
      lut[i * 4 + 1] = g0 + f * (g1 - g0);
      lut[i * 4 + 2] = b0 + f * (b1 - b0);
      lut[i * 4 + 3] = Math.min(255, Math.round(i * 3)); // fades in over the first third
    }
    return lut;
  })();
  async function loadHeat() {
    const v = state.view;
    if (!v || !v.detail || v.heat || v.heatLoading) return;
    v.heatLoading = true;
    try {
      const url = v.detail.probability_url || `/v1/items/${encodeURIComponent(v.id)}/probability`;
      const px = await fetchPixels(url);
      if (state.view !== v) return;
      const c = document.createElement('canvas');
      c.width = px.width;
      c.height = px.height;
      const cx = c.getContext('2d');
      const img = cx.createImageData(px.width, px.height);
      const s = px.data;
      const d = img.data;
      for (let j = 0; j < d.length; j += 4) {
        const p = s[j] * 4;
        d[j] = LUT[p]; d[j + 1] = LUT[p + 1]; d[j + 2] = LUT[p + 2]; d[j + 3] = LUT[p + 3];
      }
      cx.putImageData(img, 0, 0);
      v.heat = c;
      render();
    } catch (e) {
      setStatus('Heat map: ' + e.message, 'err');
    } finally {
      v.heatLoading = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Mask: outline, fill, paint, flood fill, undo/redo
  function sameMask(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function isDirty() { const v = state.view; return !!(v && v.mask && !sameMask(v.mask, v.savedMask)); }

  // The outline: the edges between lesion and background pixels, joined into runs, in image coordinates.
  function buildOutline(m, w, h) {
    const p = new Path2D();
    let n = 0;
    for (let y = 0; y <= h; y++) {
      let start = -1;
      for (let x = 0; x <= w; x++) {
        const edge = x < w && ((y > 0 ? m[(y - 1) * w + x] : 0) !== (y < h ? m[y * w + x] : 0));
        if (edge && start < 0) start = x;
        else if (!edge && start >= 0) { p.moveTo(start, y); p.lineTo(x, y); n++; start = -1; }
      }
    }
    for (let x = 0; x <= w; x++) {
      let start = -1;
      for (let y = 0; y <= h; y++) {
        const edge = y < h && ((x > 0 ? m[y * w + x - 1] : 0) !== (x < w ? m[y * w + x] : 0));
        if (edge && start < 0) start = y;
        else if (!edge && start >= 0) { p.moveTo(x, start); p.lineTo(x, y); n++; start = -1; }
      }
    }
    return { path: p, segments: n };
  }
  function refreshMaskLayers(v) {
    if (!v.maskDirty) return;
    v.maskDirty = false;
    const o = buildOutline(v.mask, v.w, v.h);
    v.outline = o.path;
    canvas.dataset.outlineSegments = String(o.segments);
    const d = v.maskImage.data;
    const m = v.mask;
    for (let i = 0, j = 0; i < m.length; i++, j += 4) {
      if (m[i]) { d[j] = 62; d[j + 1] = 224; d[j + 2] = 122; d[j + 3] = 255; } else d[j + 3] = 0;
    }
    v.maskCanvas.getContext('2d').putImageData(v.maskImage, 0, 0);
    let area = 0;
    for (let i = 0; i < m.length; i++) area += m[i];
    canvas.dataset.maskArea = String(area);
  }
  function maskChanged() {
    const v = state.view;
    v.maskDirty = true;
    updateUndoButtons();
    scheduleRender();
  }
  function pushUndo() {
    const v = state.view;
    v.undo.push(v.mask.slice());
    const cap = Math.max(10, Math.min(60, Math.floor(120e6 / Math.max(1, v.w * v.h)))); // at most ~120 MB of snapshots
    while (v.undo.length > cap) v.undo.shift();
    v.redo.length = 0;
    updateUndoButtons();
  }
  function undo() {
    const v = state.view;
    if (!v || !v.mask || !v.undo.length || painting) return;
    v.redo.push(v.mask);
    v.mask = v.undo.pop();
    maskChanged();
    measureSoon();
  }
  function redo() {
    const v = state.view;
    if (!v || !v.mask || !v.redo.length || painting) return;
    v.undo.push(v.mask);
    v.mask = v.redo.pop();
    maskChanged();
    measureSoon();
  }
  function updateUndoButtons() {
    const v = state.view;
    $('undo').disabled = !(v && v.undo.length);
    $('redo').disabled = !(v && v.redo.length);
    const dirty = isDirty();
    $('save').classList.toggle('primary', dirty);
    const st = $('status-line').textContent;
    if (dirty && (!st || st.startsWith('saved'))) setStatus('Unsaved changes', 'warn');
    if (!dirty && $('status-line').textContent === 'Unsaved changes') setStatus('', '');
  }

  function stamp(cx, cy, value) {
    const v = state.view;
    const r = Math.max(0.5, viewerUI.brush / 2);
    const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(v.w - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(v.h - 1, Math.ceil(cy + r));
    const r2 = r * r;
    let changed = false;
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - cy;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        if (dx * dx + dy * dy <= r2) {
          const i = y * v.w + x;
          if (v.mask[i] !== value) { v.mask[i] = value; changed = true; }
        }
      }
    }
    const px = Math.floor(cx), py = Math.floor(cy);
    if (px >= 0 && py >= 0 && px < v.w && py < v.h && v.mask[py * v.w + px] !== value) { v.mask[py * v.w + px] = value; changed = true; }
    return changed;
  }
  function strokeTo(x, y, value) {
    const last = strokeLast;
    let changed = false;
    if (!last) changed = stamp(x, y, value);
    else {
      const dist = Math.hypot(x - last.x, y - last.y);
      const step = Math.max(0.5, viewerUI.brush / 4);
      const n = Math.max(1, Math.ceil(dist / step));
      for (let k = 1; k <= n; k++) changed = stamp(last.x + ((x - last.x) * k) / n, last.y + ((y - last.y) * k) / n, value) || changed;
    }
    strokeLast = { x, y };
    if (changed) { strokeChanged = true; maskChanged(); }
  }
  // Flood fill (4-connected): a background region becomes lesion (a hole filled), a lesion becomes background.
  function floodFill(ix, iy) {
    const v = state.view;
    const x = Math.floor(ix), y = Math.floor(iy);
    if (x < 0 || y < 0 || x >= v.w || y >= v.h) return false;
    const m = v.mask, w = v.w, h = v.h;
    const from = m[y * w + x];
    const to = from ? 0 : 1;
    const stack = new Int32Array(w * h);
    let sp = 0;
    stack[sp++] = y * w + x;
    m[y * w + x] = to;
    while (sp) {
      const i = stack[--sp];
      const px = i % w, py = (i / w) | 0;
      if (px > 0 && m[i - 1] === from) { m[i - 1] = to; stack[sp++] = i - 1; }
      if (px < w - 1 && m[i + 1] === from) { m[i + 1] = to; stack[sp++] = i + 1; }
      if (py > 0 && m[i - w] === from) { m[i - w] = to; stack[sp++] = i - w; }
      if (py < h - 1 && m[i + w] === from) { m[i + w] = to; stack[sp++] = i + w; }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Measuring the reader's mask
  async function maskBlob(mask, w, h) {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const cx = c.getContext('2d');
    const img = cx.createImageData(w, h);
    const d = img.data;
    for (let i = 0, j = 0; i < mask.length; i++, j += 4) {
      const val = mask[i] ? 255 : 0;
      d[j] = val; d[j + 1] = val; d[j + 2] = val; d[j + 3] = 255;
    }
    cx.putImageData(img, 0, 0);
    return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the mask'))), 'image/png'));
  }
  function blobToDataURL(blob) {
    return new Promise((resolve, reject) => {
      const fr = new FileReader();
      fr.onload = () => resolve(fr.result);
      fr.onerror = () => reject(fr.error);
      fr.readAsDataURL(blob);
    });
  }
  let measureTimer = null;
  let measuring = false;
  let measureAgain = false;
  function measureSoon() {
    clearTimeout(measureTimer);
    measureTimer = setTimeout(measureNow, 120);
  }
  async function measureNow() {
    const v = state.view;
    if (!v || !v.mask) return;
    if (measuring) { measureAgain = true; return; }
    measuring = true;
    measureAgain = false;
    $('measure-state').textContent = 'measuring…';
    try {
      const blob = await maskBlob(v.mask, v.w, v.h);
      const m = await apiJSON(`/v1/items/${encodeURIComponent(v.id)}/measure`, {
        method: 'POST', headers: { 'Content-Type': 'image/png' }, body: blob,
      });
      if (state.view !== v) return;
      v.measure = m;
      v.lesions = Array.isArray(m.lesions) ? m.lesions : [];
      renderMeasurements();
      render();
      $('measure-state').textContent = '';
      canvas.dataset.measured = String((Number(canvas.dataset.measured) || 0) + 1);
    } catch (e) {
      if (state.view === v) $('measure-state').textContent = 'not measured: ' + e.message;
    } finally {
      measuring = false;
      if (measureAgain && state.view === v) measureNow();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Saving
  let saving = false;
  async function save(advance) {
    const v = state.view;
    if (!v || !v.mask || saving) return;
    saving = true;
    const edited = !sameMask(v.mask, v.modelMask);
    const snapshot = v.mask.slice();
    setStatus('saving…', '');
    $('save').disabled = true;
    $('accept').disabled = true;
    try {
      const blob = await maskBlob(snapshot, v.w, v.h);
      const b64 = (await blobToDataURL(blob)).split(',')[1];
      const body = { mask_png_base64: b64, edited };
      const reader = readerInput.value.trim();
      if (reader) body.reader = reader;
      const rec = await apiJSON(`/v1/items/${encodeURIComponent(v.id)}/review`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      const status = rec.status || (edited ? 'corrected' : 'reviewed');
      if (state.view === v) {
        v.savedMask = snapshot;
        if (v.detail) { v.detail.review = rec; v.detail.status = status; }
        $('item-status').textContent = status;
        $('item-status').className = 'badge ' + status;
        updateUndoButtons();
        setStatus(`saved: ${status}` + (rec.saved_at ? ` · ${fmtDate(rec.saved_at)}` : ''), 'ok');
      }
      const it = state.items.find((x) => x.id === v.id);
      if (it) { it.status = status; it.reader = rec.reader ?? it.reader; it.reviewed_at = rec.saved_at ?? it.reviewed_at; }
      if (advance && state.view === v) {
        const n = neighbour(1);
        if (n) {
          state.pendingStatus = { text: `${itemLabel(v.item)} saved: ${status}`, kind: 'ok' };
          goItem(n.id);
        } else setStatus(`saved: ${status} · that was the last image`, 'ok');
      }
    } catch (e) {
      if (state.view === v) setStatus('not saved: ' + e.message, 'err');
    } finally {
      saving = false;
      $('save').disabled = false;
      $('accept').disabled = false;
    }
  }
  $('save').addEventListener('click', () => save(false));
  $('accept').addEventListener('click', () => save(true));

  // ---------------------------------------------------------------------------------------------
  // Drawing the stage
  let renderQueued = false;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => { renderQueued = false; render(); });
  }
  function resizeCanvas() {
    const r = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      const v = state.view;
      if (v && v.scan && v.fitted) fitView();
    }
    render();
  }
  new ResizeObserver(resizeCanvas).observe($('stage'));

  function fitView() {
    const v = state.view;
    if (!v || !v.w) return;
    const cw = canvas.width / dpr, ch = canvas.height / dpr;
    const s = Math.min(cw / v.w, ch / v.h) * 0.97;
    v.s = s > 0 ? s : 1;
    v.tx = (cw - v.w * v.s) / 2;
    v.ty = (ch - v.h * v.s) / 2;
    v.fitted = true;
    updateZoomLabel();
    scheduleRender();
  }
  function zoomAt(factor, cx, cy) {
    const v = state.view;
    if (!v || !v.w) return;
    const s = Math.min(40, Math.max(0.05, v.s * factor));
    const ix = (cx - v.tx) / v.s, iy = (cy - v.ty) / v.s;
    v.s = s;
    v.tx = cx - ix * s;
    v.ty = cy - iy * s;
    v.fitted = false;
    updateZoomLabel();
    scheduleRender();
  }
  const zoomCentre = (f) => zoomAt(f, canvas.width / dpr / 2, canvas.height / dpr / 2);
  function updateZoomLabel() {
    const v = state.view;
    $('zoom-value').textContent = v && v.w ? Math.round(v.s * 100) + '%' : '';
    if (v) canvas.dataset.transform = `${v.s} ${v.tx} ${v.ty}`;
  }

  function render() {
    const W = canvas.width, H = canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#141618';
    ctx.fillRect(0, 0, W, H);
    const v = state.view;
    $('heat-legend').classList.toggle('hidden', !(v && v.heat && viewerUI.showHeat));
    if (!v || !v.scan) return;
    refreshMaskLayers(v);
    const s = v.s;
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * v.tx, dpr * v.ty);
    ctx.imageSmoothingEnabled = s < 3;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(v.scan, 0, 0);
    if (viewerUI.showHeat && v.heat) {
      ctx.globalAlpha = viewerUI.heatOpacity;
      ctx.drawImage(v.heat, 0, 0);
      ctx.globalAlpha = 1;
    }
    ctx.imageSmoothingEnabled = false;
    const editing = viewerUI.tool !== 'pan';
    if (viewerUI.showOutline) {
      if (editing) {
        ctx.globalAlpha = 0.16;
        ctx.drawImage(v.maskCanvas, 0, 0);
        ctx.globalAlpha = 1;
      }
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.55)';
      ctx.lineWidth = 3.2 / s;
      ctx.stroke(v.outline);
      ctx.strokeStyle = '#3ee07a';
      ctx.lineWidth = 1.6 / s;
      ctx.stroke(v.outline);
    }
    if (viewerUI.showCalipers && !painting) {
      for (const l of v.lesions) {
        drawCaliper(l.long_axis, '#f2d249', s);
        drawCaliper(l.short_axis, '#4fd6e8', s);
      }
    }
    // brush outline under the pointer
    if (v.pointer && (viewerUI.tool === 'brush' || viewerUI.tool === 'eraser') && !spaceDown && !panning) {
      const r = Math.max(0.5, viewerUI.brush / 2);
      ctx.beginPath();
      ctx.arc(v.pointer.x, v.pointer.y, r, 0, Math.PI * 2);
      ctx.lineWidth = 1.2 / s;
      ctx.strokeStyle = viewerUI.tool === 'brush' ? 'rgba(255,255,255,0.9)' : 'rgba(255,140,140,0.95)';
      ctx.setLineDash([4 / s, 3 / s]);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }
  function drawCaliper(a, colour, s) {
    if (!Array.isArray(a) || a.length < 4 || !a.every(isNum)) return;
    const [x0, y0, x1, y1] = a.map((c) => c + 0.5); // pixel centres
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.lineWidth = 3.4 / s;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.6 / s;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    // end marks: short ticks across the line, as calipers on a scanner
    const len = Math.hypot(x1 - x0, y1 - y0) || 1;
    const nx = -(y1 - y0) / len, ny = (x1 - x0) / len;
    const t = 5 / s;
    ctx.lineWidth = 2 / s;
    for (const [x, y] of [[x0, y0], [x1, y1]]) {
      ctx.beginPath(); ctx.moveTo(x - nx * t, y - ny * t); ctx.lineTo(x + nx * t, y + ny * t); ctx.stroke();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Pointer: paint, fill, pan, zoom
  let painting = false;
  let paintValue = 1;
  let strokeLast = null;
  let strokeChanged = false;
  let panning = null;
  let spaceDown = false;

  function imagePoint(ev) {
    const v = state.view;
    const r = canvas.getBoundingClientRect();
    return { x: (ev.clientX - r.left - v.tx) / v.s, y: (ev.clientY - r.top - v.ty) / v.s, cx: ev.clientX - r.left, cy: ev.clientY - r.top };
  }
  canvas.addEventListener('pointerdown', (ev) => {
    const v = state.view;
    if (!v || !v.mask) return;
    canvas.focus({ preventScroll: true });
    const p = imagePoint(ev);
    if (ev.button === 1 || (ev.button === 0 && (viewerUI.tool === 'pan' || spaceDown))) {
      ev.preventDefault();
      panning = { x: ev.clientX, y: ev.clientY, tx: v.tx, ty: v.ty };
      canvas.classList.add('panning');
      canvas.setPointerCapture(ev.pointerId);
      return;
    }
    if (ev.button !== 0) return;
    if (viewerUI.tool === 'brush' || viewerUI.tool === 'eraser') {
      ev.preventDefault();
      canvas.setPointerCapture(ev.pointerId);
      pushUndo();
      painting = true;
      strokeChanged = false;
      strokeLast = null;
      paintValue = viewerUI.tool === 'brush' ? 1 : 0;
      strokeTo(p.x, p.y, paintValue);
    } else if (viewerUI.tool === 'fill') {
      ev.preventDefault();
      const x = Math.floor(p.x), y = Math.floor(p.y);
      if (x < 0 || y < 0 || x >= v.w || y >= v.h) return;
      pushUndo();
      floodFill(p.x, p.y);
      maskChanged();
      measureSoon();
    }
  });
  canvas.addEventListener('pointermove', (ev) => {
    const v = state.view;
    if (!v || !v.mask) return;
    if (panning) {
      v.tx = panning.tx + ev.clientX - panning.x;
      v.ty = panning.ty + ev.clientY - panning.y;
      v.fitted = false;
      updateZoomLabel();
      scheduleRender();
      return;
    }
    const p = imagePoint(ev);
    v.pointer = { x: p.x, y: p.y };
    if (painting) {
      const evs = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
      if (evs.length > 1) for (const ce of evs) { const q = imagePoint(ce); strokeTo(q.x, q.y, paintValue); }
      else strokeTo(p.x, p.y, paintValue);
    }
    scheduleRender();
  });
  function endPointer(ev) {
    const v = state.view;
    if (panning) {
      panning = null;
      canvas.classList.remove('panning');
    }
    if (painting) {
      painting = false;
      strokeLast = null;
      if (v) {
        if (!strokeChanged) { v.undo.pop(); updateUndoButtons(); } else measureNow();
      }
      scheduleRender();
    }
    if (ev && canvas.hasPointerCapture && canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId);
  }
  canvas.addEventListener('pointerup', endPointer);
  canvas.addEventListener('pointercancel', endPointer);
  canvas.addEventListener('pointerleave', () => { if (state.view) { state.view.pointer = null; scheduleRender(); } });
  canvas.addEventListener('auxclick', (ev) => ev.preventDefault());
  canvas.addEventListener('contextmenu', (ev) => ev.preventDefault());
  canvas.addEventListener('wheel', (ev) => {
    if (!state.view || !state.view.w) return;
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    const dy = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
    zoomAt(Math.exp(-dy * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });

  // ---------------------------------------------------------------------------------------------
  // Toolbar
  function setTool(t) {
    viewerUI.tool = t;
    for (const name of ['pan', 'brush', 'eraser', 'fill']) {
      const b = $('tool-' + name);
      b.classList.toggle('active', name === t);
      b.setAttribute('aria-pressed', String(name === t));
      canvas.classList.toggle('tool-' + name, name === t);
    }
    scheduleRender();
  }
  for (const name of ['pan', 'brush', 'eraser', 'fill']) $('tool-' + name).addEventListener('click', () => setTool(name));
  function setBrush(n) {
    n = Math.min(80, Math.max(1, Math.round(n)));
    viewerUI.brush = n;
    $('brush-size').value = String(n);
    $('brush-size-value').textContent = String(n);
    store.set('sonoseg.brush', String(n));
    scheduleRender();
  }
  $('brush-size').addEventListener('input', (ev) => setBrush(Number(ev.target.value)));
  $('undo').addEventListener('click', undo);
  $('redo').addEventListener('click', redo);
  function setOutline(on) { viewerUI.showOutline = on; $('show-outline').checked = on; scheduleRender(); }
  function setCalipers(on) { viewerUI.showCalipers = on; $('show-calipers').checked = on; scheduleRender(); }
  function setHeat(on) {
    viewerUI.showHeat = on;
    $('show-heatmap').checked = on;
    if (on) loadHeat();
    scheduleRender();
  }
  $('show-outline').addEventListener('change', (ev) => setOutline(ev.target.checked));
  $('show-calipers').addEventListener('change', (ev) => setCalipers(ev.target.checked));
  $('show-heatmap').addEventListener('change', (ev) => setHeat(ev.target.checked));
  $('heat-opacity').addEventListener('input', (ev) => {
    viewerUI.heatOpacity = Number(ev.target.value) / 100;
    if (!viewerUI.showHeat) setHeat(true); else scheduleRender();
  });
  $('zoom-in').addEventListener('click', () => zoomCentre(1.25));
  $('zoom-out').addEventListener('click', () => zoomCentre(0.8));
  $('zoom-fit').addEventListener('click', fitView);
  $('back').addEventListener('click', goWorklist);
  $('prev').addEventListener('click', () => goNeighbour(-1));
  $('next').addEventListener('click', () => goNeighbour(1));
  $('brand').addEventListener('click', (ev) => { ev.preventDefault(); goWorklist(); });

  // ---------------------------------------------------------------------------------------------
  // Keyboard
  function typingIn(t) {
    if (!t || !t.tagName) return false;
    if (t.isContentEditable || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
    if (t.tagName !== 'INPUT') return false;
    return !['checkbox', 'radio', 'button', 'submit', 'range', 'file'].includes(t.type);
  }
  document.addEventListener('keydown', (ev) => {
    if (tokenPromise || $('card-dialog').open) return;
    const inViewer = !!state.view && !$('viewer').classList.contains('hidden');
    if (typingIn(ev.target)) {
      if (ev.key === 'Escape') ev.target.blur();
      return;
    }
    if (!inViewer) return;
    // range sliders keep their arrow keys
    if (ev.target && ev.target.type === 'range' && ev.key.startsWith('Arrow')) return;
    const k = ev.key;
    const ctrl = ev.ctrlKey || ev.metaKey;
    if (ctrl && !ev.altKey) {
      const lk = k.toLowerCase();
      if (lk === 'z' && !ev.shiftKey) { ev.preventDefault(); undo(); }
      else if ((lk === 'z' && ev.shiftKey) || lk === 'y') { ev.preventDefault(); redo(); }
      return;
    }
    if (ev.altKey) return;
    let handled = true;
    switch (k) {
      case 'ArrowRight': case 'n': goNeighbour(1); break;
      case 'ArrowLeft': case 'p': goNeighbour(-1); break;
      case 'o': setOutline(!viewerUI.showOutline); break;
      case 'h': setHeat(!viewerUI.showHeat); break;
      case 'c': setCalipers(!viewerUI.showCalipers); break;
      case 'a': save(true); break;
      case 'b': setTool('brush'); break;
      case 'e': setTool('eraser'); break;
      case 'f': setTool('fill'); break;
      case 'v': setTool('pan'); break;
      case '[': setBrush(viewerUI.brush - (viewerUI.brush > 10 ? 2 : 1)); break;
      case ']': setBrush(viewerUI.brush + (viewerUI.brush >= 10 ? 2 : 1)); break;
      case '+': case '=': zoomCentre(1.25); break;
      case '-': case '_': zoomCentre(0.8); break;
      case '0': fitView(); break;
      case 'Escape': goWorklist(); break;
      case ' ':
        if (!spaceDown) { spaceDown = true; canvas.classList.add('tool-pan'); scheduleRender(); }
        break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });
  document.addEventListener('keyup', (ev) => {
    if (ev.key === ' ' && spaceDown) {
      ev.preventDefault(); // no click on a focused button
      spaceDown = false;
      canvas.classList.toggle('tool-pan', viewerUI.tool === 'pan');
      scheduleRender();
    }
  });
  window.addEventListener('blur', () => {
    if (spaceDown) { spaceDown = false; canvas.classList.toggle('tool-pan', viewerUI.tool === 'pan'); }
  });

  // ---------------------------------------------------------------------------------------------
  // Start
  setTool('pan');
  setBrush(viewerUI.brush);
  establishSession();
  route();
})();
