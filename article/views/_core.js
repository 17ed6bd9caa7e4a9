/* Shared browser code of the article's figures: loading plotly.js and data (JSON, gzipped matrices),
 * DOM helpers, controls, the URL state, the hover panel, heatmap traces and their block lines.
 *
 * The build (exporters/site.py) concatenates article/views/_core.js, one file per figure view
 * (article/views/<figure id>.js, each registering F.views["<figure id>"]) and _boot.js into
 * assets/figures.js. Each figure is a <figure data-figure="ID" data-src="data/....json"
 * data-options="{...}"> rendered by a Jinja template. The views only draw precomputed data, link hovers
 * and switch precomputed states; they compute no metric. Figures mount lazily when they scroll into
 * view, and on every page load signalled by mkdocs-material's `document$` (instant navigation safe).
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
  /* Points the exporter wrote with FigureContext.write_points: int16 thousandths, x y interleaved,
   * little-endian, gzipped; decoded once per file into {x: [...], y: [...]} in [-1, 1]. */
  var pointsCache = new Map();
  function getPoints(meta) {
    if (!pointsCache.has(meta.src)) {
      pointsCache.set(meta.src, fetch(url(meta.src)).then(function (r) {
        if (!r.ok) throw new Error(meta.src + ": HTTP " + r.status);
        return r.arrayBuffer();
      }).then(gunzip).then(function (q) {
        if (meta.encoding !== "i16-xy" || q.length !== 4 * meta.points)
          throw new Error(meta.src + ": " + q.length + " bytes, expected " + 4 * meta.points);
        var dv = new DataView(q.buffer, q.byteOffset, q.length), x = new Array(meta.points), y = new Array(meta.points);
        for (var k = 0; k < meta.points; k++) {
          x[k] = dv.getInt16(4 * k, true) / 1000;
          y[k] = dv.getInt16(4 * k + 2, true) / 1000;
        }
        return {x: x, y: y};
      }));
    }
    return pointsCache.get(meta.src);
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


  /* every view registers itself here (article/views/<id>.js); _boot.js mounts them */
  window.clipFigures = {views: {}, url: url, loadPlotly: loadPlotly, getJSON: getJSON, gunzip: gunzip, getMatrix: getMatrix, getPoints: getPoints, unpack: unpack, esc: esc, h: h, card: card, fmt: fmt, pct: pct, readState: readState, writeState: writeState, select: select, checkbox: checkbox, textInput: textInput, itemNode: itemNode, Panel: Panel, heatmapTrace: heatmapTrace, blockShapes: blockShapes, heatLayout: heatLayout, crossShapes: crossShapes, MOD_COLORS: MOD_COLORS, LINE_COLORS: LINE_COLORS, SIM_SCALE: SIM_SCALE, DIV_SCALE: DIV_SCALE, PLOT_CONFIG: PLOT_CONFIG, NOSELECT_CONFIG: NOSELECT_CONFIG, SMALL_CONFIG: SMALL_CONFIG, MODEBAR: MODEBAR};
})();
