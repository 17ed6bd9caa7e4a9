/* The "Large scale" figure: projections of every pair beside the similarity heatmap of all items
 * (2n x 2n cells: 10,000 x 10,000 at 5,000 pairs), linked both ways.
 *
 * The heatmap is drawn from a tile pyramid the exporter wrote (exporters/analysis/tiles.py,
 * exporters/figures/large.py): level p pools p x p cells (block mean and block max), level 1 holds the
 * similarities themselves; each tile is 256 x 256 uint8 codes (value = offset + code * scale), gzipped,
 * of the symmetric matrix only tiles (i, j) with i <= j; a coarse tile's block-max plane is its own file
 * ({i}-{j}-max.bin), fetched only when the colour switch or the panel shows it. The page shows the finest level that puts at
 * most as many cells across the view as the overview has, and fetches only the tiles in view (cached)
 * as the reader zooms and pans (plotly_relayout). It computes nothing but that choice and the decoding.
 * The "large" view (article/views/large.js, concatenated into assets/figures.js). Captions are untrusted:
 * set with textContent (figures.js's itemNode), escaped before Plotly sees them.
 */
(function () {
  "use strict";

  var F = window.clipFigures;
  var h = F.h;
  var NAMES = {closed: "Gap closed (embeddings moved)", oos: "UMAP fit on one modality, the other out of sample",
               concat: "Concatenated pairs (one point per pair)"};
  var HIGHLIGHT = "#ff2d2d";

  /* ---- the pyramid: which cells a level has, tiles fetched once, codes read in place ----------- */
  function Pyramid(meta) {
    var n = meta.n, M = meta.names.length, T = meta.tile;
    var levels = meta.levels.slice().sort(function (a, b) { return a.p - b.p; });
    var byP = {}, loaded = new Map(), pending = new Map();
    levels.forEach(function (lv) { byP[lv.p] = lv; });
    var py = {n: n, M: M, N: M * n, levels: levels, requested: 0, bytes: 0};
    function perBlock(p) { return Math.ceil(n / p); }
    /* level-p cell of a full-resolution row (blocks are pooled separately: a cell never mixes two) */
    py.cellOf = function (p, r) { var a = Math.floor(r / n); return a * perBlock(p) + Math.floor((r - a * n) / p); };
    py.start = function (p, k) { var c = perBlock(p), a = Math.floor(k / c); return a * n + (k - a * c) * p; };
    py.end = function (p, k) { var c = perBlock(p), a = Math.floor(k / c); return Math.min(a * n + n, a * n + (k - a * c + 1) * p); };
    py.size = function (p) { return byP[p].size; };
    function key(p, i, j, plane) { return p + "/" + i + "-" + j + "/" + plane; }
    /* one plane of a tile is one file: the block max (plane 1) only when the view or the panel shows it */
    function fetchTile(p, i, j, plane) {   // i <= j
      var k = key(p, i, j, plane);
      if (loaded.has(k)) return Promise.resolve(loaded.get(k));
      if (!pending.has(k)) {
        var rel = (plane ? meta.tiles_max : meta.tiles).replace("{p}", p).replace("{i}", i).replace("{j}", j);
        var lv = byP[p], rows = Math.min(T, lv.size - i * T), cols = Math.min(T, lv.size - j * T);
        py.requested++;
        pending.set(k, fetch(F.url(rel)).then(function (r) {
          if (!r.ok) throw new Error(rel + ": HTTP " + r.status);
          return r.arrayBuffer();
        }).then(function (buf) {
          py.bytes += buf.byteLength;   // as fetched (gzipped)
          return F.gunzip(buf);
        }).then(function (q) {
          var need = rows * cols;
          if (q.length !== need) throw new Error(rel + ": " + q.length + " bytes, expected " + need);
          var t = {rows: rows, cols: cols, q: q};
          loaded.set(k, t);
          pending.delete(k);
          return t;
        }));
      }
      return pending.get(k);
    }
    /* promise of every tile covering level cells [r0, r1) x [c0, c1), in the given planes (default: 0) */
    py.load = function (p, r0, r1, c0, c1, planes) {
      var list = [];
      (planes || [0]).forEach(function (plane) {
        for (var i = Math.floor(r0 / T); i <= Math.floor((r1 - 1) / T); i++)
          for (var j = Math.floor(c0 / T); j <= Math.floor((c1 - 1) / T); j++)
            list.push(fetchTile(p, Math.min(i, j), Math.max(i, j), plane));
      });
      return Promise.all(list);
    };
    /* value of level cell (r, c) in a plane (0: the similarity or block mean, 1: block max); null until loaded */
    py.value = function (p, r, c, plane) {
      var ti = Math.floor(r / T), tj = Math.floor(c / T), t, k;
      if (ti <= tj) {
        t = loaded.get(key(p, ti, tj, plane));
        if (!t) return null;
        k = (r - ti * T) * t.cols + (c - tj * T);
      } else {
        t = loaded.get(key(p, tj, ti, plane));
        if (!t) return null;
        k = (c - tj * T) * t.cols + (r - ti * T);
      }
      return meta.offset + t.q[k] * meta.scale;
    };
    /* the finest level that shows a span of full-resolution rows in at most meta.view_cells cells
     * across (as many as the overview has): the whole matrix is the overview, and any view costs at
     * most that many cells squared, plus the edges of the tiles it touches */
    py.levelFor = function (span) {
      for (var k = 0; k < levels.length; k++) if (span / levels[k].p <= meta.view_cells) return levels[k].p;
      return levels[levels.length - 1].p;
    };
    return py;
  }

  /* ---- the scatter's points: one canvas under plotly's SVG, which keeps pan and zoom and the marking
   * shapes. 10,000 markers as SVG nodes took 3.3 s to draw and 110 ms from a hover to its paint in
   * Chromium; plotly's scattergl would add 98 kB gzipped to every page for this one figure. The layer
   * draws what plotly drew: 1-px pair lines, markers of 3 px at opacity 0.6, in the axes' current ranges
   * (redrawn while the reader pans), finds the point under the pointer within plotly's hover distance
   * (20 px), and has the legend (buttons that show or hide a group). groups: [{label, x, y, color,
   * index}] (index: the item of point k); lines: the two groups whose points k are joined, or null. -- */
  var HOVER_PX = 20, MARKER_R = 1.5, MARKER_OPACITY = 0.6;
  function PointLayer(gd, legendEl) {
    var cv = h("canvas", {className: "fx-points", "aria-hidden": "true"}), ctx = cv.getContext("2d");
    var L = {groups: [], lines: null, hidden: []}, queued = false, shown = null;
    function frame() {   // the plot area and the data -> pixel maps of the axes' current ranges
      var fl = gd._fullLayout;
      if (!fl || !fl.xaxis || !fl.yaxis || !fl._size) return null;
      var s = fl._size, xr = fl.xaxis.range, yr = fl.yaxis.range, kx = s.w / (xr[1] - xr[0]), ky = s.h / (yr[1] - yr[0]);
      return {s: s, x: function (x) { return (x - xr[0]) * kx; }, y: function (y) { return s.h - (y - yr[0]) * ky; }};
    }
    function draw() {
      queued = false;
      var f = frame(), box = gd.querySelector(".svg-container");
      if (!f || !box) return;
      if (cv.parentNode !== box) box.insertBefore(cv, box.firstChild);
      var s = f.s, dpr = window.devicePixelRatio || 1, w = Math.round(s.w * dpr), hh = Math.round(s.h * dpr);
      if (cv.width !== w || cv.height !== hh) { cv.width = w; cv.height = hh; }
      cv.style.left = s.l + "px"; cv.style.top = s.t + "px"; cv.style.width = s.w + "px"; cv.style.height = s.h + "px";
      legendEl.style.left = s.l + "px"; legendEl.style.top = s.t + "px";
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, s.w, s.h);
      if (L.lines) {
        var a = L.groups[L.lines[0]], b = L.groups[L.lines[1]];
        ctx.globalAlpha = 1;
        ctx.strokeStyle = "rgba(80,80,80,0.12)";
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (var i = 0; i < a.x.length; i++) { ctx.moveTo(f.x(a.x[i]), f.y(a.y[i])); ctx.lineTo(f.x(b.x[i]), f.y(b.y[i])); }
        ctx.stroke();
      }
      ctx.globalAlpha = MARKER_OPACITY;
      L.groups.forEach(function (g, gi) {
        if (L.hidden[gi]) return;
        ctx.fillStyle = g.color;
        for (var k = 0; k < g.x.length; k++) {   // one fill each: overlapping markers add up, as SVG nodes do
          ctx.beginPath();
          ctx.arc(f.x(g.x[k]), f.y(g.y[k]), MARKER_R, 0, 2 * Math.PI);
          ctx.fill();
        }
      });
      ctx.globalAlpha = 1;
    }
    function redraw() { if (!queued) { queued = true; requestAnimationFrame(draw); } }
    /* the nearest shown point to a client position within HOVER_PX: {group, k, index}, or null */
    function pick(clientX, clientY) {
      var f = frame();
      if (!f) return null;
      var r = gd.getBoundingClientRect(), mx = clientX - r.left - f.s.l, my = clientY - r.top - f.s.t;
      if (mx < 0 || my < 0 || mx > f.s.w || my > f.s.h) return null;
      var best = null, bd = HOVER_PX * HOVER_PX;
      L.groups.forEach(function (g, gi) {
        if (L.hidden[gi]) return;
        for (var k = 0; k < g.x.length; k++) {
          var dx = f.x(g.x[k]) - mx, dy = f.y(g.y[k]) - my, d = dx * dx + dy * dy;
          if (d < bd) { bd = d; best = {group: gi, k: k, index: g.index[k]}; }
        }
      });
      return best;
    }
    function legend() {   // one toggle per group where there are several (plotly showed none for one trace)
      legendEl.replaceChildren.apply(legendEl, L.groups.length < 2 ? [] : L.groups.map(function (g, gi) {
        var btn = h("button", {type: "button", className: "fx-legend-item", "aria-pressed": String(!L.hidden[gi]),
          title: "Show or hide the " + g.label + " points", onclick: function () {
            L.hidden[gi] = !L.hidden[gi];
            btn.setAttribute("aria-pressed", String(!L.hidden[gi]));
            shown = null;
            draw();
          }}, [h("span", {className: "fx-legend-dot"}), g.label]);
        btn.firstChild.style.background = g.color;
        return btn;
      }));
    }
    /* hover (once per point, as plotly_hover) and click (a press and release in place) */
    function bind(onHover, onClick) {
      var down = null;
      gd.addEventListener("mousemove", function (e) {
        var p = pick(e.clientX, e.clientY), key = p && p.group + ":" + p.k;
        if (key === shown) return;
        shown = key;
        if (p) onHover(p);
      }, true);
      gd.addEventListener("mouseleave", function () { shown = null; });
      gd.addEventListener("mousedown", function (e) { down = [e.clientX, e.clientY]; }, true);
      window.addEventListener("mouseup", function (e) {   // on the window: plotly's drag cover takes the release
        var d = down;
        down = null;
        if (!d || Math.abs(e.clientX - d[0]) > 3 || Math.abs(e.clientY - d[1]) > 3) return;
        var p = pick(e.clientX, e.clientY);
        if (p) onClick(p);
      }, true);
      ["plotly_afterplot", "plotly_relayout", "plotly_relayouting"].forEach(function (ev) { gd.on(ev, redraw); });
    }
    return {set: function (groups, lines) {
              var hidden = groups.map(function (g, gi) { return L.groups.length === groups.length && L.hidden[gi]; });
              L = {groups: groups, lines: lines, hidden: hidden};
              shown = null;
              legend();
              draw();
            }, bind: bind};
  }

  /* ---- the figure ------------------------------------------------------------------------------ */
  function mountLarge(fig, meta, opts, Plotly) {
    var id = fig.id, mount = fig.querySelector(".fig-mount"), n = meta.n;
    var st = {model: meta.models[0].id, view: meta.views[0], colour: "mean"}, u = F.readState(id);
    if (meta.models.some(function (m) { return m.id === u.model; })) st.model = u.model;
    if (meta.views.indexOf(u.view) >= 0) st.view = u.view;
    if (u.colour === "max") st.colour = "max";
    var bar = h("div", {className: "fx-controls"});
    var heatDiv = h("div", {className: "fx-heat fx-tiles", tabindex: "0", role: "application",
      "aria-label": "Similarity heatmap of all items. Drag a box to zoom, double-click to zoom out; arrow keys move between cells; the panel shows the items."});
    var scatDiv = h("div", {className: "fx-large", role: "group", "aria-label": "Scatter plot of the projected pairs"});
    var metaLine = h("p", {className: "fx-meta", "data-role": "meta"});
    var legendEl = h("div", {className: "fx-legend", role: "group", "aria-label": "Points shown"});
    mount.replaceChildren(bar, metaLine, h("div", {className: "fx-grid"}, [heatDiv, h("div", {className: "fx-scatter"}, [scatDiv, legendEl])]));
    var panel = F.Panel(mount);
    var items = null, order = null, rowOf = null, hm = null, py = null, scat = null;   // order, rowOf: row -> item, item -> row
    var drawn = {key: null, p: null, r0: 0, c0: 0, x: null, y: null}, gen = 0, cursor = null, marks = [];

    function save() { F.writeState(id, {model: st.model, view: st.view, colour: st.colour}); }
    if (meta.models.length > 1) bar.appendChild(F.select("Model (projection)", meta.models.map(function (m) { return [m.id, m.label]; }), st.model, function (v) { st.model = v; save(); drawScatter(); }));
    bar.appendChild(F.select("View", meta.views.map(function (v) { return [v, NAMES[v] || v]; }), st.view, function (v) { st.view = v; save(); drawScatter(); }));
    bar.appendChild(F.select("Heatmap cells above single pairs show", [["mean", "the block mean"], ["max", "the block maximum"]], st.colour, function (v) { st.colour = v; save(); drawHeat(true); }));

    /* ---- the heatmap ---- */
    function baseShapes() {
      var N = py.N, s = [];
      for (var b = 1; b < py.M; b++) {
        s.push({type: "line", xref: "x", yref: "y", x0: b * n - 0.5, x1: b * n - 0.5, y0: -0.5, y1: N - 0.5, line: {color: "#fff", width: 1.5}});
        s.push({type: "line", xref: "x", yref: "y", y0: b * n - 0.5, y1: b * n - 0.5, x0: -0.5, x1: N - 0.5, line: {color: "#fff", width: 1.5}});
      }
      var ra = hm.names.indexOf(hm.clusters.key.split("_")[0]), cb = hm.names.indexOf(hm.clusters.key.split("_")[1]), k0 = 0;
      hm.clusters.sizes.forEach(function (size) {
        s.push({type: "rect", xref: "x", yref: "y", x0: cb * n + k0 - 0.5, x1: cb * n + k0 + size - 0.5,
                y0: ra * n + k0 - 0.5, y1: ra * n + k0 + size - 0.5, line: {color: "rgba(255,255,255,0.8)", width: 1}});
        k0 += size;
      });
      return s;
    }
    function markShapes() {   // rows and columns of marked items, the clicked cell
      var N = py.N, s = [];
      marks.forEach(function (m) {
        if (m.row !== undefined) s.push({type: "line", xref: "x", yref: "y", x0: -0.5, x1: N - 0.5, y0: m.row, y1: m.row, line: {color: HIGHLIGHT, width: 1}});
        if (m.col !== undefined) s.push({type: "line", xref: "x", yref: "y", y0: -0.5, y1: N - 0.5, x0: m.col, x1: m.col, line: {color: HIGHLIGHT, width: 1}});
      });
      return baseShapes().concat(s);
    }
    function ranges() {
      var fl = heatDiv._fullLayout;
      if (!fl || !fl.xaxis) return {x: [-0.5, py.N - 0.5], y: [py.N - 0.5, -0.5]};
      return {x: fl.xaxis.range.slice(), y: fl.yaxis.range.slice()};
    }
    function visible() {   // full-resolution rows and columns in view, and the level to draw them at
      var rg = ranges(), N = py.N;
      var cx = [Math.min(rg.x[0], rg.x[1]), Math.max(rg.x[0], rg.x[1])], cy = [Math.min(rg.y[0], rg.y[1]), Math.max(rg.y[0], rg.y[1])];
      var c0 = Math.max(0, Math.floor(cx[0] + 0.5)), c1 = Math.min(N - 1, Math.floor(cx[1] + 0.5));
      var r0 = Math.max(0, Math.floor(cy[0] + 0.5)), r1 = Math.min(N - 1, Math.floor(cy[1] + 0.5));
      var p = py.levelFor(Math.max(c1 - c0 + 1, r1 - r0 + 1));
      return {p: p, r0: py.cellOf(p, r0), r1: py.cellOf(p, r1) + 1, c0: py.cellOf(p, c0), c1: py.cellOf(p, c1) + 1, rg: rg};
    }
    function heatHeight() {   // square cells filling the column: its width less the margins and the colour bar
      return Math.round(Math.max(320, Math.min(680, (heatDiv.clientWidth || 500) - 120 + 40)));
    }
    function edges(p, k0, k1) {
      var e = [];
      for (var k = k0; k < k1; k++) e.push(py.start(p, k) - 0.5);
      e.push(py.end(p, k1 - 1) - 0.5);
      return e;
    }
    function drawHeat(force) {
      var v = visible(), plane = v.p === 1 || st.colour === "mean" ? 0 : 1;
      var key = [v.p, v.r0, v.r1, v.c0, v.c1, plane].join(",");
      if (!force && key === drawn.key) return Promise.resolve();
      var g = ++gen;
      heatDiv.setAttribute("aria-busy", "true");
      return py.load(v.p, v.r0, v.r1, v.c0, v.c1, [plane]).then(function () {
        if (g !== gen) return;   // the reader has moved on
        var z = new Array(v.r1 - v.r0);
        for (var r = v.r0; r < v.r1; r++) {
          var row = new Array(v.c1 - v.c0);
          for (var c = v.c0; c < v.c1; c++) row[c - v.c0] = py.value(v.p, r, c, plane);
          z[r - v.r0] = row;
        }
        if (v.p !== drawn.p) cursor = null;   // the keyboard's cell was one of the former level
        drawn = {key: key, p: v.p, r0: v.r0, c0: v.c0, plane: plane};
        var lbl = hm.modalities.map(F.esc), tv = hm.modalities.map(function (_, b) { return b * n + (n - 1) / 2; });
        var tr = {type: "heatmap", z: z, x: edges(v.p, v.c0, v.c1), y: edges(v.p, v.r0, v.r1), zsmooth: false,
                  colorscale: F.SIM_SCALE, zmin: meta.heatmap.zrange[0], zmax: meta.heatmap.zrange[1], hoverinfo: "none",
                  colorbar: {title: {text: "cosine<br>similarity", side: "right"}, thickness: 10, len: 0.9, xpad: 4}};
        // two invisible corners: autorange (double-click, the home button) always means the whole matrix
        var frame = {type: "scatter", mode: "markers", x: [-0.5, py.N - 0.5], y: [-0.5, py.N - 0.5], hoverinfo: "skip",
                     showlegend: false, marker: {opacity: 0, size: 1}};
        var layout = {height: heatHeight(), margin: {l: 50, r: 0, t: 10, b: 30}, dragmode: "zoom", modebar: F.MODEBAR, hovermode: "closest",
          xaxis: {range: v.rg.x, tickvals: tv, ticktext: lbl, showgrid: false, zeroline: false, constrain: "domain"},
          yaxis: {range: v.rg.y, tickvals: tv, ticktext: lbl, showgrid: false, zeroline: false, scaleanchor: "x", constrain: "domain"},
          shapes: markShapes(), paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
        return Plotly.react(heatDiv, [tr, frame], layout, F.NOSELECT_CONFIG).then(function () {
          heatDiv.dataset.level = String(v.p);
          heatDiv.dataset.view = key;
          fig.dataset.tilesRequested = String(py.requested);
          heatDiv.setAttribute("aria-busy", "false");
          metaLine.textContent = hm.label + ", gap open — " + (v.p === 1 ? "single pairs" : "each cell " + v.p + " × " + v.p +
            " similarities, " + (plane ? "block maximum" : "block mean")) + "; values within ±" + hm.max_abs_error +
            " — " + py.requested + " tiles loaded (" + Math.round(py.bytes / 1024) + " kB)";
        });
      });
    }

    /* a cell of the current level: what the panel says; at level 1 both items */
    function cellInfo(r, c) {
      var p = drawn.p, plane = drawn.plane;
      var fr0 = py.start(p, r), fr1 = py.end(p, r), fc0 = py.start(p, c), fc1 = py.end(p, c);
      var a = Math.floor(fr0 / n), b = Math.floor(fc0 / n);
      if (p === 1) return {single: true, a: a, b: b, row: fr0, col: fc0, value: py.value(1, r, c, 0)};
      return {single: false, a: a, b: b, rows: [fr0, fr1], cols: [fc0, fc1], mean: py.value(p, r, c, 0), max: py.value(p, r, c, 1), plane: plane, row: fr0, col: fc0};
    }
    /* the items (captions and thumbnail URLs, 0.5 MB at 5,000 pairs) and the rows' order (which item a
     * row is) are not part of the first view: fetched when the pointer or the focus first enters the
     * figure; until they arrive the panel says so */
    var itemsPromise = null, lastShow = null;
    function loadItems() {
      if (!itemsPromise) itemsPromise = F.getJSON(meta.heatmap.src).then(function (r) {   // the order's URL is in it
        return Promise.all([F.getJSON(meta.items), F.getJSON(r.order)]);
      }).then(function (r) {
        items = r[0];
        order = r[1];
        rowOf = new Array(n);
        order.forEach(function (i, k) { rowOf[i] = k; });
        fig.dataset.items = "loaded";
        if (lastShow) lastShow();
      });
      return itemsPromise;
    }
    function itemAt(row) { var a = Math.floor(row / n); return [a, order[row - a * n]]; }   // [modality, item]
    var shown = 0;   // counts what the panel was asked to show: a late answer for an older request is dropped
    function withItems(show) {
      shown++;
      lastShow = show;
      if (items) return show();
      panel.show([h("p", {className: "fx-hint", text: "Loading the items…"})]);
      loadItems();
    }
    function showCell(r, c) {
      shown++;
      cursor = [r, c];
      var ci = cellInfo(r, c);
      if (ci.single) {
        withItems(function () {
          ci.i = itemAt(ci.row)[1];
          ci.j = itemAt(ci.col)[1];
          panel.show([F.itemNode(items, ci.a, ci.i, "Row"), F.itemNode(items, ci.b, ci.j, "Column")],
                     "Cosine similarity " + F.fmt(ci.value, 3) + " (±" + hm.max_abs_error + ")");
          fig.dataset.cell = [ci.a, ci.i, ci.b, ci.j].join(",");
        });
        return ci;
      } else {
        lastShow = null;
        if (ci.mean === null || ci.max === null) {   // the plane not drawn: fetched for the panel, then shown
          panel.show([h("p", {className: "fx-hint", text: "Loading the block values…"})]);
          var p = drawn.p, asked = shown;
          py.load(p, r, r + 1, c, c + 1, [0, 1]).then(function () {
            if (asked === shown && drawn.p === p && cursor && cursor[0] === r && cursor[1] === c) showCell(r, c);
          });
          fig.dataset.cell = "";
          return ci;
        }
        panel.show([h("p", {text: "This cell summarises " + (ci.rows[1] - ci.rows[0]) + " × " + (ci.cols[1] - ci.cols[0]) + " similarities: " +
          hm.modalities[ci.a] + " rows " + (ci.rows[0] - ci.a * n + 1) + "–" + (ci.rows[1] - ci.a * n) + " × " +
          hm.modalities[ci.b] + " columns " + (ci.cols[0] - ci.b * n + 1) + "–" + (ci.cols[1] - ci.b * n) +
          " of the ordered matrix. Block mean " + F.fmt(ci.mean, 3) + ", block maximum " + F.fmt(ci.max, 3) + ". Zoom in to see single pairs."})]);
      }
      fig.dataset.cell = "";
      return ci;
    }
    function markCell(ci) {   // click: mark the cell in the heatmap and its two items in the scatter
      marks = [{row: ci.row, col: ci.col}];
      Plotly.relayout(heatDiv, {shapes: markShapes()});
      if (ci.single) loadItems().then(function () { highlightScatter([itemAt(ci.row), itemAt(ci.col)]); });
    }
    /* zoom the heatmap to single pairs around the true pair of item i (its image row, its text column) */
    function centre(i, half) {
      half = half || 40;
      return loadItems().then(function () {
        var row = rowOf[i], col = n + rowOf[i];
        marks = [{row: row}, {row: n + row}, {col: row}, {col: col}];
        return Plotly.relayout(heatDiv, {"xaxis.range": [col - half, col + half], "yaxis.range": [row + half, row - half], shapes: markShapes()});
      });
    }

    /* ---- the scatter (projections of the selected model): plotly holds the data (the traces it drew
     * before the canvas layer, now not drawn: the pair lines, then each group's points) and draws the
     * marks and takes pan and zoom; the points, the lines and the legend are the layer's ---- */
    var layer = PointLayer(scatDiv, legendEl);
    function drawScatter() {
      var m = meta.models.filter(function (x) { return x.id === st.model; })[0];
      return F.getPoints(m.views[st.view]).then(function (v) {
        var tr = [], groups = [], idx = Array.from({length: n}, function (_, i) { return i; });
        scat = {v: v, concat: st.view === "concat"};
        if (scat.concat) {
          groups.push({label: "pairs", x: v.x, y: v.y, color: F.MOD_COLORS[0], index: idx});
        } else {
          var lx = [], ly = [];
          for (var i = 0; i < n; i++) { lx.push(v.x[i], v.x[n + i], null); ly.push(v.y[i], v.y[n + i], null); }
          tr.push({type: "scatter", mode: "lines", x: lx, y: ly, visible: false, showlegend: false, line: {color: "rgba(80,80,80,0.12)", width: 1}});
          for (var b = 0; b < 2; b++) groups.push({label: meta.modalities[b], x: v.x.slice(b * n, (b + 1) * n), y: v.y.slice(b * n, (b + 1) * n),
                                                   color: F.MOD_COLORS[b], index: idx});
        }
        groups.forEach(function (g) {
          tr.push({type: "scatter", mode: "markers", name: F.esc(g.label), x: g.x, y: g.y, customdata: g.index, visible: false,
                   marker: {color: g.color, size: 3, opacity: MARKER_OPACITY}});
        });
        // the ranges frame every point with a margin; double-click and the home button come back to them
        var x0 = Math.min.apply(null, v.x), x1 = Math.max.apply(null, v.x), y0 = Math.min.apply(null, v.y), y1 = Math.max.apply(null, v.y);
        var mx = 0.03 * (x1 - x0 || 1), my = 0.03 * (y1 - y0 || 1);
        fig.dataset.state = st.model + "|" + st.view;
        return Plotly.react(scatDiv, tr, {height: heatHeight(), margin: {l: 10, r: 10, t: 10, b: 10}, dragmode: "pan", hovermode: false, modebar: F.MODEBAR,
          xaxis: {visible: false, range: [x0 - mx, x1 + mx]}, yaxis: {visible: false, range: [y0 - my, y1 + my]}, showlegend: false, shapes: [],
          paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"}, Object.assign({}, F.NOSELECT_CONFIG, {doubleClick: "reset"})).then(function () {
          layer.set(groups, scat.concat ? null : [0, 1]);
        });
      });
    }
    /* mark items [[modality, item], ...] in the scatter: rings of a fixed size in pixels, joined by a line
     * (shapes, not a trace: the scatter's traces stay the data) */
    function highlightScatter(list) {
      var v = scat.v, s = [], prev = null;
      list.forEach(function (ai) {
        var k = scat.concat ? ai[1] : ai[0] * n + ai[1], x = v.x[k], y = v.y[k];
        if (prev) s.push({type: "line", xref: "x", yref: "y", x0: prev[0], y0: prev[1], x1: x, y1: y, line: {color: HIGHLIGHT, width: 2}});
        s.push({type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel", xanchor: x, yanchor: y,
                x0: -7, x1: 7, y0: -7, y1: 7, line: {color: HIGHLIGHT, width: 2.5}});
        prev = [x, y];
      });
      fig.dataset.scatterMarked = list.map(function (ai) { return ai.join(":"); }).join(",");
      return Plotly.relayout(scatDiv, {shapes: s});
    }

    function bind() {
      heatDiv.on("plotly_relayout", function () { drawHeat(false); });
      heatDiv.on("plotly_hover", function (ev) {
        var pt = ev.points[0];
        if (!pt || pt.curveNumber !== 0 || !pt.pointIndex) return;
        showCell(drawn.r0 + pt.pointIndex[0], drawn.c0 + pt.pointIndex[1]);
      });
      heatDiv.on("plotly_click", function (ev) {
        var pt = ev.points[0];
        if (!pt || pt.curveNumber !== 0 || !pt.pointIndex) return;
        markCell(showCell(drawn.r0 + pt.pointIndex[0], drawn.c0 + pt.pointIndex[1]));
      });
      heatDiv.addEventListener("keydown", function (e) {
        var d = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]}[e.key];
        if (!d && e.key !== "Enter") return;
        e.preventDefault();
        var S = py.size(drawn.p), c = cursor || [drawn.r0, drawn.c0];
        if (e.key === "Enter") { markCell(cellInfo(c[0], c[1])); return; }
        showCell(Math.min(S - 1, Math.max(0, c[0] + d[0])), Math.min(S - 1, Math.max(0, c[1] + d[1])));
      });
      layer.bind(function (p) {   // hover a point: its items in the panel, its rows in the heatmap
        var i = p.index;
        withItems(function () {
          panel.show(items.modalities.map(function (_, b) { return F.itemNode(items, b, i); }));
          marks = [{row: rowOf[i]}, {row: n + rowOf[i]}];
          Plotly.relayout(heatDiv, {shapes: markShapes()});
          fig.dataset.rowsMarked = rowOf[i] + "," + (n + rowOf[i]);
        });
      }, function (p) {           // click it: the heatmap zooms to its pair
        fig.dataset.centred = String(p.index);
        centre(p.index);
      });
    }

    fig.fx = {state: st, showCell: showCell, centre: centre, pyramid: function () { return py; },
              drawn: function () { return drawn; }, heatmap: function () { return hm; }};
    mount.addEventListener("pointerenter", loadItems);
    mount.addEventListener("focusin", loadItems);
    return F.getJSON(meta.heatmap.src).then(function (r) {
      hm = r;
      py = Pyramid(hm);
      return Promise.all([drawHeat(true), drawScatter()]);
    }).then(bind);
  }

  F.views.large = mountLarge;
})();
