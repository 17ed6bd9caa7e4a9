/* The explorer: the similarity heatmap (blocks per modality pair), a 2-D projection of all items with
 * one line per pair, and the hover panel, linked both ways; model, projection, gap, clustering and a
 * caption filter switch precomputed states (exporters/figures/explorer.py).
 */
(function (F) {
  "use strict";
  var getJSON = F.getJSON, getMatrix = F.getMatrix, esc = F.esc, h = F.h, fmt = F.fmt, pct = F.pct, readState = F.readState, writeState = F.writeState, select = F.select, checkbox = F.checkbox, textInput = F.textInput, itemNode = F.itemNode, Panel = F.Panel, heatmapTrace = F.heatmapTrace, heatLayout = F.heatLayout, crossShapes = F.crossShapes, MOD_COLORS = F.MOD_COLORS, SIM_SCALE = F.SIM_SCALE, PLOT_CONFIG = F.PLOT_CONFIG, MODEBAR = F.MODEBAR;

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

  F.views.explorer = mountExplorer;
})(window.clipFigures);
