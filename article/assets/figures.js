/* Mounts every interactive figure of the article.
 *
 * Each figure is a <figure data-figure="KIND" data-src="data/....json" data-options="{...}">
 * rendered by a Jinja template. This file only draws precomputed data, links hovers and switches
 * precomputed states; it computes no metric. Figures mount lazily when they scroll into view, and
 * on every page load signalled by mkdocs-material's `document$` (instant navigation safe).
 * Text from the data is only ever set with textContent, or escaped before it reaches Plotly.
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript;
  /* The plotly.js partial bundle: the build writes its content-hashed name here (exporters/site.py),
   * so a new bundle is a new URL and the old one can be cached for good. Loaded once: instant
   * navigation (mkdocs-material's navigation.instant) keeps this page, and window.Plotly, alive. */
  var PLOTLY_SRC = "assets/plotly.min.js";
  var ROOT = new URL("..", SCRIPT ? SCRIPT.src : location.href);
  var MOD_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"];   // Okabe-Ito: colour-blind safe
  var LINE_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  var SIM_SCALE = "Viridis";                                         // perceptually uniform
  var DIV_SCALE = [[0, "#542788"], [0.17, "#998ec3"], [0.33, "#d8daeb"], [0.5, "#f7f7f7"],
                   [0.67, "#fee0b6"], [0.83, "#f1a340"], [1, "#b35806"]]; // PuOr, centred at 0
  /* Plotly's modebar buttons are <button>s with an aria-label: keyboard users reach them in DOM order.
   * Kept where they act on what the figure shows (zoom and pan a big matrix or point cloud; box and
   * lasso select only where a selection marks rows, i.e. in the explorer's scatter plot). Never:
   * "Share chart" (showSendToCloud, on by default in plotly.js 3) would upload the data to a third-party
   * service, and toImage/autoscale add nothing here. Small multiples have no modebar and no drag-zoom:
   * they are read side by side at one extent, the hover panel shows their details, and six buttons per
   * card would bury the figure's own controls in the tab order. */
  var PLOT_CONFIG = {displaylogo: false, responsive: true, showSendToCloud: false,
                     modeBarButtonsToRemove: ["toImage", "autoScale2d"]};
  var NOSELECT_CONFIG = {displaylogo: false, responsive: true, showSendToCloud: false,
                         modeBarButtonsToRemove: ["toImage", "autoScale2d", "select2d", "lasso2d"]};
  var SMALL_CONFIG = {displaylogo: false, responsive: true, showSendToCloud: false, displayModeBar: false};
  /* With a transparent paper Plotly derives a dark-grey modebar with pale icons (too little contrast for
   * controls, WCAG 1.4.11): light bar, dark icons (7:1), the active drag mode in the theme's indigo. */
  var MODEBAR = {bgcolor: "rgba(255,255,255,0.9)", color: "#595959", activecolor: "#303fa1"};

  function url(rel) { return new URL(rel, ROOT).href; }

  var plotlyPromise = null;
  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyPromise) {
      plotlyPromise = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = url(PLOTLY_SRC);
        s.onload = function () { resolve(window.Plotly); };
        s.onerror = function () { reject(new Error("could not load " + PLOTLY_SRC)); };
        document.head.appendChild(s);
      });
    }
    return plotlyPromise;
  }

  var jsonCache = new Map();
  function getJSON(rel) {
    if (!jsonCache.has(rel)) {
      jsonCache.set(rel, fetch(url(rel)).then(function (r) {
        if (!r.ok) throw new Error(rel + ": HTTP " + r.status);
        return r.json();
      }));
    }
    return jsonCache.get(rel);
  }

  /* A matrix the exporter wrote with FigureContext.write_matrix: uint8 codes in a gzipped .bin file,
   * of a symmetric matrix only the upper triangle with the diagonal (row by row, i <= j). Decoded
   * once per file into a full row-major Float32Array: value = offset + code * scale, within
   * meta.max_abs_error of the exporter's number. A host that sent the file with Content-Encoding
   * gzip has unzipped it already: only bytes that start with gzip's magic number are unzipped. */
  var matrixCache = new Map();
  function gunzip(buf) {
    var b = new Uint8Array(buf);
    if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) return Promise.resolve(b);
    return new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer()
      .then(function (out) { return new Uint8Array(out); });
  }
  function getMatrix(meta) {
    if (!matrixCache.has(meta.src)) {
      matrixCache.set(meta.src, fetch(url(meta.src)).then(function (r) {
        if (!r.ok) throw new Error(meta.src + ": HTTP " + r.status);
        return r.arrayBuffer();
      }).then(gunzip).then(function (q) { return unpack(meta, q); }));
    }
    return matrixCache.get(meta.src);
  }
  function unpack(meta, q) {
    var R = meta.rows, C = meta.cols, out = new Float32Array(R * C), k = 0, i, j, v;
    var need = meta.encoding === "u8-upper" ? R * (R + 1) / 2 : R * C;
    if (q.length !== need) throw new Error(meta.src + ": " + q.length + " codes, expected " + need);
    if (meta.encoding === "u8-upper") {
      for (i = 0; i < R; i++) for (j = i; j < R; j++) { v = meta.offset + q[k++] * meta.scale; out[i * R + j] = v; out[j * R + i] = v; }
    } else if (meta.encoding === "u8") {
      for (k = 0; k < need; k++) out[k] = meta.offset + q[k] * meta.scale;
    } else throw new Error(meta.src + ": unknown encoding " + meta.encoding);
    return out;
  }

  var uid = 0;   // ids of controls and card titles

  /* Plotly renders a subset of HTML in labels: escape every data string given to it. */
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "className") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }

  /* A small multiple: a group named by its title (a label of the figure, not a heading of the page). */
  function card(m, children) {
    var tid = "fx-card-" + (++uid);
    return h("div", {className: "fx-card", "data-model": m.id, role: "group", "aria-labelledby": tid},
             [h("p", {className: "fx-card-title", id: tid, text: m.label})].concat(children));
  }

  function fmt(v, d) { return v === null || v === undefined ? "n/a" : Number(v).toFixed(d === undefined ? 2 : d); }
  function pct(v) { return v === null || v === undefined ? "n/a" : Math.round(100 * v) + "%"; }

  /* ---- state kept in the URL: ?<figure id>=key:value,key:value ------------------------------- */
  function readState(id) {
    var v = new URLSearchParams(location.search).get(id), out = {};
    if (!v) return out;
    v.split(",").forEach(function (kv) {
      var i = kv.indexOf(":");
      if (i > 0) out[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1));
    });
    return out;
  }
  function writeState(id, obj) {
    var p = new URLSearchParams(location.search);
    p.set(id, Object.keys(obj).sort().map(function (k) {
      return k + ":" + encodeURIComponent(String(obj[k])).replace(/%20/g, "+").replace(/,/g, "%2C");
    }).join(","));
    history.replaceState(history.state, "", location.pathname + "?" + p.toString() + location.hash);
  }

  /* ---- controls ---------------------------------------------------------------------------------- */
  function select(label, options, value, onchange) {
    var id = "fx-ctl-" + (++uid);
    var s = h("select", {id: id});
    options.forEach(function (o) {
      var opt = h("option", {value: o[0], text: o[1]});
      if (o[0] === value) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onchange(s.value); });
    return h("span", {className: "fx-ctl"}, [h("label", {"for": id, text: label}), s]);
  }
  function checkbox(label, checked, onchange, disabled) {
    var id = "fx-ctl-" + (++uid);
    var c = h("input", {type: "checkbox", id: id, disabled: !!disabled});
    c.checked = !!checked;
    c.addEventListener("change", function () { onchange(c.checked); });
    return h("span", {className: "fx-ctl"}, [c, h("label", {"for": id, text: label})]);
  }
  function textInput(label, value, onchange) {
    var id = "fx-ctl-" + (++uid);
    var c = h("input", {type: "search", id: id, placeholder: "e.g. dog", value: value || ""});
    var timer = null;
    c.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { onchange(c.value); }, 200); });
    return h("span", {className: "fx-ctl"}, [h("label", {"for": id, text: label}), c]);
  }

  /* ---- hover panel ------------------------------------------------------------------------------ */
  function itemNode(items, mod, i, heading) {
    var m = items.modalities[mod], v = m.items[i];
    var box = h("div", {className: "fx-item", "data-modality": m.name, "data-index": String(i)});
    box.appendChild(h("div", {className: "fx-item-head", text: (heading ? heading + ": " : "") + m.label + " #" + i}));
    if (m.kind === "image") {
      box.appendChild(h("img", {src: url(v), alt: m.label + " " + i, width: "160", loading: "lazy"}));
    } else if (m.kind === "audio") {
      box.appendChild(h("audio", {controls: true, preload: "none", src: url(v)}));
    } else if (m.kind === "molecule") {
      // an SVG in <img> cannot run script; it was also sanitized when it was drawn
      if (m.drawings) box.appendChild(h("img", {src: url(m.drawings[i]), alt: "structure of " + v, width: "160", loading: "lazy"}));
      box.appendChild(h("code", {className: "fx-smiles", text: v, title: "SMILES"}));
    } else {
      box.appendChild(h("p", {className: "fx-caption", text: v}));
    }
    return box;
  }
  function Panel(host) {
    var el = h("div", {className: "fx-panel", "aria-live": "polite", "data-role": "hover-panel"},
               [h("p", {className: "fx-hint", text: "Hover a cell, a row or a point to see the items here."})]);
    host.appendChild(el);
    return {
      el: el,
      show: function (nodes, note) {
        el.replaceChildren.apply(el, (note ? [h("p", {className: "fx-note", text: note})] : []).concat(nodes));
      }
    };
  }

  /* ---- the similarity heatmap -------------------------------------------------------------------- */
  /* view: {n, mods (labels), order: [item indices shown per block], sim: Float32Array (N*N)} */
  function heatmapTrace(sim, N, n, M, order, scale, zrange, showScale) {
    var K = order.length, z = new Array(M * K);
    for (var a = 0; a < M; a++) for (var r = 0; r < K; r++) {
      var row = new Array(M * K), gr = (a * n + order[r]) * N;
      for (var b = 0; b < M; b++) for (var c = 0; c < K; c++) row[b * K + c] = sim[gr + b * n + order[c]];
      z[a * K + r] = row;
    }
    return {type: "heatmap", z: z, colorscale: scale, zmin: zrange[0], zmax: zrange[1],
            showscale: showScale !== false, hovertemplate: "similarity %{z:.3f}<extra></extra>",
            colorbar: {title: {text: "cosine<br>similarity", side: "right"}, thickness: 12, len: 0.9}};
  }
  function blockShapes(M, K) {
    var s = [];
    for (var b = 1; b < M; b++) {
      s.push({type: "line", xref: "x", yref: "y", x0: b * K - 0.5, x1: b * K - 0.5, y0: -0.5, y1: M * K - 0.5, line: {color: "#fff", width: 1.5}});
      s.push({type: "line", xref: "x", yref: "y", y0: b * K - 0.5, y1: b * K - 0.5, x0: -0.5, x1: M * K - 0.5, line: {color: "#fff", width: 1.5}});
    }
    return s;
  }
  function heatLayout(labels, K, height, title) {
    var tv = labels.map(function (_, b) { return b * K + (K - 1) / 2; });
    var tt = labels.map(esc);
    return {height: height, margin: {l: 70, r: 10, t: title ? 30 : 10, b: 40},
            title: title ? {text: esc(title), font: {size: 13}} : undefined,
            xaxis: {tickvals: tv, ticktext: tt, showgrid: false, zeroline: false, constrain: "domain"},
            yaxis: {tickvals: tv, ticktext: tt, autorange: "reversed", showgrid: false, zeroline: false, scaleanchor: "x"},
            shapes: blockShapes(labels.length, K), annotations: [], dragmode: false, modebar: MODEBAR,
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
  }
  function crossShapes(rows, cols, KM) {
    var s = [];
    rows.forEach(function (r) { s.push({type: "rect", xref: "x", yref: "y", x0: -0.5, x1: KM - 0.5, y0: r - 0.5, y1: r + 0.5, line: {color: "#ff2d2d", width: 1}, fillcolor: "rgba(255,255,255,0.15)"}); });
    cols.forEach(function (c) { s.push({type: "rect", xref: "x", yref: "y", y0: -0.5, y1: KM - 0.5, x0: c - 0.5, x1: c + 0.5, line: {color: "#ff2d2d", width: 1}, fillcolor: "rgba(255,255,255,0.15)"}); });
    return s;
  }

  /* ---- the explorer (heatmap + scatter + panel, linked) ------------------------------------------- */
  function mountExplorer(fig, meta, opts, Plotly) {
    var id = fig.id, mount = fig.querySelector(".fig-mount");
    var M = meta.modalities.length, n = meta.n, N = n * M;
    var modelIds = meta.models.map(function (m) { return m.id; });
    var st = {model: opts.model && modelIds.indexOf(opts.model) >= 0 ? opts.model : modelIds[0],
              proj: opts.projection || meta.projections[0], gap: opts.gap ? 1 : 0,
              cluster: opts.cluster ? 1 : 0, ckey: meta.clusters[0], filter: opts.filter || "", stretch: 0};
    var url0 = readState(id);
    if (modelIds.indexOf(url0.model) >= 0) st.model = url0.model;
    if (meta.projections.indexOf(url0.proj) >= 0) st.proj = url0.proj;
    if (url0.gap === "0" || url0.gap === "1") st.gap = +url0.gap;
    if (url0.cluster === "0" || url0.cluster === "1") st.cluster = +url0.cluster;
    if (meta.clusters.indexOf(url0.ckey) >= 0) st.ckey = url0.ckey;
    if (typeof url0.filter === "string") st.filter = url0.filter;
    if (url0.stretch === "1") st.stretch = 1;
    if (meta.states.indexOf("closed") < 0) st.gap = 0;
    if (meta.projections.indexOf(st.proj) < 0) st.proj = meta.projections[0];

    var controls = opts.controls || ["model", "projection", "gap", "cluster", "filter"];
    var bar = h("div", {className: "fx-controls"});
    var modName = function (k) { var m = meta.modalities.filter(function (x) { return x.name === k; })[0]; return m ? m.label : k; };
    if (controls.indexOf("model") >= 0 && modelIds.length > 1)
      bar.appendChild(select("Model", meta.models.map(function (m) { return [m.id, m.label]; }), st.model, function (v) { st.model = v; update(); }));
    if (controls.indexOf("projection") >= 0 && meta.projections.length > 1)
      bar.appendChild(select("Projection", meta.projections.map(function (p) { return [p, p === "TSNE" ? "t-SNE" : p]; }), st.proj, function (v) { st.proj = v; update(); }));
    if (controls.indexOf("gap") >= 0 && meta.states.indexOf("closed") >= 0)
      bar.appendChild(checkbox("Close the modality gap", st.gap, function (v) { st.gap = v ? 1 : 0; update(); }));
    if (controls.indexOf("cluster") >= 0) {
      bar.appendChild(checkbox("Cluster matrix by similarity", st.cluster, function (v) { st.cluster = v ? 1 : 0; update(); }));
      if (meta.clusters.length > 1)
        bar.appendChild(select("between", meta.clusters.map(function (k) { var p = k.split("_"); return [k, modName(p[0]) + " × " + modName(p[1])]; }), st.ckey, function (v) { st.ckey = v; update(); }));
    }
    if (controls.indexOf("contrast") >= 0 || controls.indexOf("model") >= 0)
      bar.appendChild(checkbox("Stretch colours to this model", st.stretch, function (v) { st.stretch = v ? 1 : 0; update(); }));
    if (controls.indexOf("filter") >= 0)
      bar.appendChild(textInput("Pairs whose caption contains", st.filter, function (v) { st.filter = v; update(); }));

    var metaLine = h("p", {className: "fx-meta", "data-role": "meta"});
    // role=application: a screen reader hands the arrow keys to the heatmap's own cell cursor
    var heatDiv = h("div", {className: "fx-heat", tabindex: "0", role: "application", "aria-label": "Similarity heatmap. Use the arrow keys to move between cells; the panel shows the two items."});
    var scatDiv = h("div", {className: "fx-scatter", role: "group", "aria-label": "Scatter plot of the projected embeddings"});
    var grid = h("div", {className: "fx-grid"}, [heatDiv, scatDiv]);
    mount.replaceChildren(bar, metaLine, grid);
    var panel = Panel(mount);

    var items = null, view = null, cursor = [0, 0];
    var textMod = meta.modalities.map(function (m) { return m.kind; }).indexOf("text");
    if (textMod < 0) textMod = meta.modalities.map(function (m) { return m.kind; }).indexOf("molecule");

    function visibleItems(stt) {
      var keep = null;
      if (st.filter && textMod >= 0) {
        var needle = st.filter.toLocaleLowerCase();
        keep = new Set();
        items.modalities[textMod].items.forEach(function (t, i) { if (t.toLocaleLowerCase().indexOf(needle) >= 0) keep.add(i); });
      }
      var base = st.cluster ? stt.clusters[st.ckey].order : Array.from({length: n}, function (_, i) { return i; });
      return keep ? base.filter(function (i) { return keep.has(i); }) : base;
    }

    function metaText(md, stt) {
      var m = stt.metrics, parts = [];
      var keys = Object.keys(m.pairs);
      if (keys.length === 1) {
        parts.push("modality distance " + fmt(m.distance, 3));
        parts.push("loss " + fmt(m.loss, 3) + " (symmetric InfoNCE, logit scale " + (md.logit_scale === null ? "unknown" : fmt(md.logit_scale, 0)) + ", batches of " + meta.batch_size + ")");
        parts.push("R@1 " + pct(m.r1[0]) + " / " + pct(m.r1[1]));
      } else {
        keys.forEach(function (k) { var p = k.split("_"); parts.push(modName(p[0]) + "–" + modName(p[1]) + ": distance " + fmt(m.pairs[k].distance, 3) + ", loss " + fmt(m.pairs[k].loss, 3)); });
      }
      return md.label + (st.gap ? " (gap closed)" : "") + " — " + parts.join(" · ");
    }

    function update() {
      writeState(id, {model: st.model, proj: st.proj, gap: st.gap, cluster: st.cluster, ckey: st.ckey, filter: st.filter, stretch: st.stretch});
      var entry = meta.models.filter(function (m) { return m.id === st.model; })[0];
      return getJSON(entry.states[st.gap ? "closed" : "open"]).then(function (stt) {
        return getMatrix(stt.sim).then(function (sim) { return draw(entry, stt, sim); });
      });
    }

    function draw(md, stt, sim) {
      var order = visibleItems(stt), K = order.length;
      view = {md: md, stt: stt, sim: sim, order: order, K: K, pos: new Map(order.map(function (i, k) { return [i, k]; }))};
      metaLine.textContent = metaText(md, stt) + (st.filter ? " — " + K + " of " + n + " pairs match" : "");
      fig.setAttribute("data-state", [st.model, st.proj, st.gap, st.cluster, K].join("|"));
      if (K === 0) {
        Plotly.purge(heatDiv); Plotly.purge(scatDiv);
        heatDiv.replaceChildren(h("p", {className: "fx-empty", text: "No pair matches this filter."}));
        return;
      }
      if (heatDiv.querySelector(".fx-empty")) heatDiv.replaceChildren();
      var labels = meta.modalities.map(function (m) { return m.label; });
      var layout = heatLayout(labels, K, 420);
      view.baseShapes = layout.shapes.slice();
      if (st.cluster) {
        var ck = st.ckey.split("_"), ra = meta.clusters.length ? meta.modalities.map(function (m) { return m.name; }).indexOf(ck[0]) : 0;
        var cb = meta.modalities.map(function (m) { return m.name; }).indexOf(ck[1]);
        var cl = stt.clusters[st.ckey], start = 0, k0 = 0;
        var shown = new Set(order);
        cl.sizes.forEach(function (size, c) {
          var members = cl.order.slice(start, start + size).filter(function (i) { return shown.has(i); });
          start += size;
          var cnt = members.length;
          if (cnt >= 3) {
            view.baseShapes.push({type: "rect", xref: "x", yref: "y", x0: cb * K + k0 - 0.5, x1: cb * K + k0 + cnt - 0.5,
                                  y0: ra * K + k0 - 0.5, y1: ra * K + k0 + cnt - 0.5, line: {color: "#fff", width: 1.5}});
            if (cl.labels[c]) layout.annotations.push({x: cb * K + k0 + cnt / 2, y: ra * K + k0 + cnt / 2, xref: "x", yref: "y",
              text: esc(cl.labels[c]), showarrow: false, font: {color: "#fff", size: 10}, bgcolor: "rgba(0,0,0,0.55)"});
          }
          k0 += cnt;
        });
        layout.shapes = view.baseShapes.slice();
      }
      var zr = st.stretch ? [stt.sim.offset, stt.sim.offset + 255 * stt.sim.scale] : meta.zrange;
      var hm = heatmapTrace(sim, N, n, M, order, SIM_SCALE, zr);
      var p1 = Plotly.react(heatDiv, [hm], layout, PLOT_CONFIG);
      var p2 = drawScatter(stt, order);
      return Promise.all([p1, p2]).then(bindEvents);
    }

    function drawScatter(stt, order) {
      var pr = stt.proj[st.proj], shown = order.slice().sort(function (a, b) { return a - b; });
      var traces = [];
      var lx = [], ly = [];
      shown.forEach(function (i) {
        if (M === 2) { lx.push(pr.x[i], pr.x[n + i], null); ly.push(pr.y[i], pr.y[n + i], null); }
        else {
          var cx = 0, cy = 0;
          for (var b = 0; b < M; b++) { cx += pr.x[b * n + i] / M; cy += pr.y[b * n + i] / M; }
          for (b = 0; b < M; b++) { lx.push(cx, pr.x[b * n + i], null); ly.push(cy, pr.y[b * n + i], null); }
        }
      });
      traces.push({type: "scatter", mode: "lines", x: lx, y: ly, hoverinfo: "skip", showlegend: false,
                   line: {color: "rgba(110,110,110,0.35)", width: 1}});
      for (var b = 0; b < M; b++) {
        traces.push({type: "scatter", mode: "markers", name: esc(meta.modalities[b].label),
                     x: shown.map(function (i) { return pr.x[b * n + i]; }), y: shown.map(function (i) { return pr.y[b * n + i]; }),
                     customdata: shown, hoverinfo: "none", marker: {color: MOD_COLORS[b], size: 7, opacity: 0.85, line: {width: 0.5, color: "#fff"}}});
      }
      traces.push({type: "scatter", mode: "lines+markers", x: [], y: [], hoverinfo: "skip", showlegend: false, name: "highlight",
                   marker: {size: 15, color: "rgba(0,0,0,0)", line: {color: "#ff2d2d", width: 2.5}}, line: {color: "#ff2d2d", width: 2}});
      view.scatterShown = shown;
      view.pr = pr;
      return Plotly.react(scatDiv, traces, {height: 420, margin: {l: 10, r: 10, t: 10, b: 10}, dragmode: "lasso", modebar: MODEBAR,
        legend: {x: 0, y: 1, bgcolor: "rgba(255,255,255,0.7)"}, xaxis: {showticklabels: false, zeroline: false, showgrid: false},
        yaxis: {showticklabels: false, zeroline: false, showgrid: false}, hovermode: "closest",
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"}, PLOT_CONFIG);
    }

    function highlightScatter(list) {   // list of item indices (pairs)
      var pr = view.pr, x = [], y = [];
      list.forEach(function (i) {
        for (var b = 0; b < M; b++) { x.push(pr.x[b * n + i]); y.push(pr.y[b * n + i]); }
        x.push(null); y.push(null);
      });
      Plotly.restyle(scatDiv, {x: [x], y: [y]}, [M + 1]);
    }
    function highlightRows(list) {      // item indices -> rows and columns of every block
      var rows = [];
      list.forEach(function (i) { if (view.pos.has(i)) for (var b = 0; b < M; b++) rows.push(b * view.K + view.pos.get(i)); });
      Plotly.relayout(heatDiv, {shapes: view.baseShapes.concat(crossShapes(rows, list.length === 1 ? rows : [], M * view.K))});
    }
    function clearHighlights() {
      if (!view) return;
      Plotly.relayout(heatDiv, {shapes: view.baseShapes.slice()});
      Plotly.restyle(scatDiv, {x: [[]], y: [[]]}, [M + 1]);
    }
    function showCell(r, c) {
      var K = view.K, a = Math.floor(r / K), b = Math.floor(c / K);
      var i = view.order[r % K], j = view.order[c % K];
      cursor = [r, c];
      var s = view.sim[(a * n + i) * N + b * n + j];
      panel.show([itemNode(items, a, i, "Row"), itemNode(items, b, j, "Column")], "Cosine similarity " + fmt(s, 3));
      Plotly.relayout(heatDiv, {shapes: view.baseShapes.concat(crossShapes([r], [c], M * K))});
      highlightScatter(i === j ? [i] : [i, j]);
    }
    var bound = false;
    function bindEvents() {
      if (bound) return;
      bound = true;
      heatDiv.on("plotly_hover", function (ev) {
        var p = ev.points[0];
        showCell(p.pointIndex[0], p.pointIndex[1]);
      });
      heatDiv.on("plotly_unhover", clearHighlights);
      scatDiv.on("plotly_hover", function (ev) {
        var p = ev.points[0];
        if (p.curveNumber < 1 || p.curveNumber > M) return;
        var i = p.customdata;
        panel.show(meta.modalities.map(function (_, b) { return itemNode(items, b, i); }));
        highlightRows([i]);
        highlightScatter([i]);
      });
      scatDiv.on("plotly_unhover", clearHighlights);
      scatDiv.on("plotly_selected", function (ev) {
        if (!ev || !ev.points) return;
        var sel = Array.from(new Set(ev.points.filter(function (p) { return p.curveNumber >= 1 && p.curveNumber <= M; })
                                               .map(function (p) { return p.customdata; })));
        fig.setAttribute("data-selected", String(sel.length));
        highlightRows(sel);
        panel.show([h("p", {text: sel.length + " pair(s) selected; their rows are marked in the heatmap."})]);
      });
      heatDiv.addEventListener("keydown", function (e) {
        var KM = M * view.K, d = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]}[e.key];
        if (!d) return;
        e.preventDefault();
        showCell(Math.min(KM - 1, Math.max(0, cursor[0] + d[0])), Math.min(KM - 1, Math.max(0, cursor[1] + d[1])));
      });
    }
    fig.fx = {state: st, showCell: function (r, c) { showCell(r, c); }, update: update};
    return getJSON(meta.items).then(function (it) { items = it; return update(); });
  }

  /* ---- side-by-side comparison ----------------------------------------------------------------- */
  function mountComparison(fig, meta, opts, Plotly) {
    var id = fig.id, mount = fig.querySelector(".fig-mount"), M = meta.modalities.length, n = meta.n, N = n * M;
    var st = {gap: 0, proj: meta.projections[0]}, u = readState(id);
    if (u.gap === "1" && meta.states.indexOf("closed") >= 0) st.gap = 1;
    if (meta.projections.indexOf(u.proj) >= 0) st.proj = u.proj;
    var bar = h("div", {className: "fx-controls"});
    if (meta.states.indexOf("closed") >= 0) bar.appendChild(checkbox("Close the modality gap", st.gap, function (v) { st.gap = v ? 1 : 0; update(); }));
    if (meta.projections.length > 1) bar.appendChild(select("Projection", meta.projections.map(function (p) { return [p, p === "TSNE" ? "t-SNE" : p]; }), st.proj, function (v) { st.proj = v; update(); }));
    var grid = h("div", {className: "fx-cards"});
    mount.replaceChildren(bar, grid);
    var panel = Panel(mount), items = null;
    var cards = meta.models.map(function (m) {
      var heat = h("div", {className: "fx-heat-small"}), scat = h("div", {className: "fx-scatter-small"});
      var line = h("p", {className: "fx-meta"});
      grid.appendChild(card(m, [line, heat, scat]));
      return {m: m, heat: heat, scat: scat, line: line, bound: false};
    });
    var order = Array.from({length: n}, function (_, i) { return i; });
    function update() {
      writeState(id, {gap: st.gap, proj: st.proj});
      return Promise.all(cards.map(function (c) {
        return getJSON(c.m.states[st.gap ? "closed" : "open"]).then(function (stt) {
          return getMatrix(stt.sim).then(function (sim) { return [stt, sim]; });
        }).then(function (r) {
          var stt = r[0], sim = r[1];
          c.line.textContent = "distance " + fmt(stt.metrics.distance, 3) + " · loss " + fmt(stt.metrics.loss, 3);
          var lay = heatLayout(meta.modalities.map(function (x) { return x.label; }), n, 300);
          lay.margin = {l: 50, r: 5, t: 5, b: 30};
          c.base = lay.shapes.slice();
          var hm = heatmapTrace(sim, N, n, M, order, SIM_SCALE, meta.zrange, false);
          var pr = stt.proj[st.proj], tr = [];
          var lx = [], ly = [];
          for (var i = 0; i < n; i++) { lx.push(pr.x[i], pr.x[n + i], null); ly.push(pr.y[i], pr.y[n + i], null); }
          tr.push({type: "scatter", mode: "lines", x: lx, y: ly, hoverinfo: "skip", showlegend: false, line: {color: "rgba(110,110,110,0.3)", width: 1}});
          for (var b = 0; b < M; b++) tr.push({type: "scatter", mode: "markers", name: esc(meta.modalities[b].label), hoverinfo: "none",
            x: pr.x.slice(b * n, (b + 1) * n), y: pr.y.slice(b * n, (b + 1) * n), marker: {color: MOD_COLORS[b], size: 5}});
          return Promise.all([
            Plotly.react(c.heat, [hm], lay, SMALL_CONFIG),
            Plotly.react(c.scat, tr, {height: 260, margin: {l: 5, r: 5, t: 5, b: 5}, showlegend: false, dragmode: false,
              xaxis: {visible: false}, yaxis: {visible: false}, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"}, SMALL_CONFIG)
          ]).then(function () {
            c.sim = sim;
            if (c.bound) return;
            c.bound = true;
            c.heat.on("plotly_hover", function (ev) {
              var r = ev.points[0].pointIndex[0], col = ev.points[0].pointIndex[1];
              var a = Math.floor(r / n), bb = Math.floor(col / n);
              panel.show([itemNode(items, a, r % n, "Row"), itemNode(items, bb, col % n, "Column")],
                         c.m.label + ": cosine similarity " + fmt(c.sim[r * N + col], 3));
              cards.forEach(function (o) { if (o.base) Plotly.relayout(o.heat, {shapes: o.base.concat(crossShapes([r], [col], N))}); });
            });
            c.heat.on("plotly_unhover", function () { cards.forEach(function (o) { if (o.base) Plotly.relayout(o.heat, {shapes: o.base.slice()}); }); });
          });
        });
      })).then(function () { fig.setAttribute("data-state", [st.gap, st.proj].join("|")); });
    }
    return getJSON(meta.items).then(function (it) { items = it; return update(); });
  }

  /* ---- in-modal difference ----------------------------------------------------------------------- */
  function mountInmodal(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount"), n = meta.n;
    var grid = h("div", {className: "fx-cards"});
    mount.replaceChildren(grid);
    var panel = Panel(mount);
    return getJSON(meta.items).then(function (items) {
      var divs = meta.models.map(function (m) {
        var div = h("div", {className: "fx-heat-small"});
        grid.appendChild(card(m, [h("p", {className: "fx-meta", text: "mean |difference| " + fmt(m.mean_abs, 3)}), div]));
        return div;
      });
      return Promise.all(meta.models.map(function (m, k) { return getMatrix(m.diff).then(function (d) {
        var div = divs[k], z = [];
        for (var r = 0; r < n; r++) z.push(Array.prototype.slice.call(d, r * n, (r + 1) * n));
        var lay = heatLayout([meta.rows], n, 320);
        lay.margin = {l: 50, r: 10, t: 5, b: 30};
        lay.xaxis.ticktext = [esc(meta.rows)];
        var tr = {type: "heatmap", z: z, colorscale: DIV_SCALE, zmin: -meta.zmax, zmax: meta.zmax, zmid: 0,
                  showscale: k === meta.models.length - 1, hovertemplate: "difference %{z:.3f}<extra></extra>",
                  colorbar: {title: {text: "difference", side: "right"}, thickness: 12}};
        return Plotly.react(div, [tr], lay, SMALL_CONFIG).then(function () {
          div.on("plotly_hover", function (ev) {
            var i = ev.points[0].pointIndex[0], j = ev.points[0].pointIndex[1];
            var nodes = [];
            items.modalities.forEach(function (_, b) { nodes.push(itemNode(items, b, i, "Row")); });
            items.modalities.forEach(function (_, b) { nodes.push(itemNode(items, b, j, "Column")); });
            panel.show(nodes, m.label + ": difference " + fmt(d[i * n + j], 3));
          });
        });
      }); }));
    });
  }

  /* ---- loss landscape ----------------------------------------------------------------------------- */
  function mountLandscape(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount"), div = h("div", {className: "fx-landscape"});
    mount.replaceChildren(div);
    var traces = [];
    meta.models.forEach(function (m, k) {
      if (m.logit_scale === null) return;
      var col = LINE_COLORS[k % LINE_COLORS.length], name = esc(m.label);
      traces.push({type: "scatter", mode: "lines", x: m.distances, y: m.losses, name: name, legendgroup: name,
                   line: {color: col, width: 2}, hovertemplate: name + "<br>distance %{x:.3f}<br>loss %{y:.3f}<extra></extra>"});
      traces.push({type: "scatter", mode: "markers", x: [m.original_distance, m.closed_distance], y: [m.original_loss, m.closed_loss],
                   legendgroup: name, showlegend: false, marker: {color: col, size: [11, 11], symbol: ["circle", "diamond"], line: {color: "#fff", width: 1}},
                   text: ["as trained", "gap closed"], hovertemplate: name + ", %{text}<br>distance %{x:.3f}<br>loss %{y:.3f}<extra></extra>"});
    });
    return Plotly.react(div, traces, {height: 400, margin: {l: 60, r: 10, t: 10, b: 50}, modebar: MODEBAR,
      xaxis: {title: {text: "signed modality distance"}, zeroline: true}, yaxis: {title: {text: "loss (symmetric InfoNCE)"}},
      legend: {orientation: "h", y: -0.2}, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"}, NOSELECT_CONFIG);
  }

  /* ---- augmentations ----------------------------------------------------------------------------- */
  function mountAugmentations(fig, meta, opts, Plotly) {
    var id = fig.id, mount = fig.querySelector(".fig-mount");
    var st = {aug: meta.augmentations[0].name, src: 0}, u = readState(id);
    if (meta.augmentations.some(function (a) { return a.name === u.aug; })) st.aug = u.aug;
    var bar = h("div", {className: "fx-controls"}), picker = h("div", {className: "fx-picker", role: "group", "aria-label": "Source image"});
    bar.appendChild(select("Augmentation", meta.augmentations.map(function (a) { return [a.name, a.name]; }), st.aug, function (v) { st.aug = v; st.src = 0; update(); }));
    var grid = h("div", {className: "fx-cards"});
    mount.replaceChildren(bar, picker, grid);
    var panel = Panel(mount);
    function update() {
      var aug = meta.augmentations.filter(function (a) { return a.name === st.aug; })[0];
      if (st.src >= aug.sources.length) st.src = 0;
      writeState(id, {aug: st.aug, src: st.src});
      picker.replaceChildren.apply(picker, aug.sources.map(function (s, k) {
        // toggle buttons, one tab stop each (a radiogroup would promise arrow-key navigation)
        return h("button", {type: "button", className: "fx-thumb" + (k === st.src ? " fx-on" : ""), "aria-pressed": k === st.src ? "true" : "false",
                            "aria-label": "source image " + (k + 1), onclick: function () { st.src = k; update(); }},
                 [h("img", {src: url(s.thumb), alt: "", width: "48", height: "48"})]);
      }));
      var src = aug.sources[st.src], n = src.n;
      return getJSON(src.items).then(function (items) {
        var M = items.modalities.length, N = n * M, order = Array.from({length: n}, function (_, i) { return i; });
        var cards = src.models.map(function (m) {
          var div = h("div", {className: "fx-heat-small"});
          return {m: m, div: div, card: card(m, [div])};
        });
        grid.replaceChildren.apply(grid, cards.map(function (c) { return c.card; }));
        return Promise.all(cards.map(function (c, k) {
          return getMatrix(c.m.sim).then(function (sim) {
            var lay = heatLayout(items.modalities.map(function (x) { return x.label; }), n, 300);
            lay.margin = {l: 50, r: 5, t: 5, b: 30};
            c.base = lay.shapes.slice();
            return Plotly.react(c.div, [heatmapTrace(sim, N, n, M, order, SIM_SCALE, meta.zrange, true)], lay, SMALL_CONFIG).then(function () {
              c.div.on("plotly_hover", function (ev) {
                var r = ev.points[0].pointIndex[0], col = ev.points[0].pointIndex[1];
                panel.show([itemNode(items, Math.floor(r / n), r % n, "Row"), itemNode(items, Math.floor(col / n), col % n, "Column")],
                           c.m.label + ": cosine similarity " + fmt(sim[r * N + col], 3));
                cards.forEach(function (o) { Plotly.relayout(o.div, {shapes: o.base.concat(crossShapes([r], [col], N))}); });
              });
            });
          });
        }));
      }).then(function () { fig.setAttribute("data-state", st.aug + "|" + st.src); });
    }
    return update();
  }

  var VIEWS = {explorer: mountExplorer, comparison: mountComparison, inmodal: mountInmodal,
               landscape: mountLandscape, augmentations: mountAugmentations};
  /* views of other asset files register here, with the helpers they share (assets/tiles.js: "large", the large page) */
  window.clipFigures = {views: VIEWS, h: h, url: url, getJSON: getJSON, gunzip: gunzip, esc: esc, fmt: fmt, select: select, Panel: Panel, itemNode: itemNode, readState: readState, writeState: writeState, MODEBAR: MODEBAR, PLOT_CONFIG: PLOT_CONFIG, NOSELECT_CONFIG: NOSELECT_CONFIG, MOD_COLORS: MOD_COLORS, SIM_SCALE: SIM_SCALE};

  function mount(fig) {
    if (fig.dataset.mounted) return;
    fig.dataset.mounted = "loading";
    var opts = {};
    try { opts = JSON.parse(fig.getAttribute("data-options") || "{}"); } catch (e) { opts = {}; }
    Promise.all([loadPlotly(), getJSON(fig.getAttribute("data-src"))]).then(function (r) {
      return VIEWS[fig.getAttribute("data-figure")](fig, r[1], opts, r[0]);
    }).then(function () {
      fig.dataset.mounted = "ready";
    }).catch(function (err) {
      fig.dataset.mounted = "error";
      var m = fig.querySelector(".fig-mount");
      if (m) m.replaceChildren(h("p", {className: "fx-error", text: "This figure could not be drawn: " + err.message}));
      console.error(err);
    });
  }

  var observer = null;
  function setup() {
    var figs = document.querySelectorAll("figure[data-figure]");
    if (!("IntersectionObserver" in window)) { figs.forEach(mount); return; }
    if (observer) observer.disconnect();
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) { observer.unobserve(e.target); mount(e.target); } });
    }, {rootMargin: "200px 0px"});
    figs.forEach(function (f) { observer.observe(f); });
  }

  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(setup);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
