/* Models side by side: one heatmap and one projection per model on one colour scale; a hovered cell
 * is outlined in every model (exporters/figures/comparison.py).
 */
(function (F) {
  "use strict";
  var getJSON = F.getJSON, getMatrix = F.getMatrix, esc = F.esc, h = F.h, card = F.card, fmt = F.fmt, readState = F.readState, writeState = F.writeState, select = F.select, checkbox = F.checkbox, itemNode = F.itemNode, Panel = F.Panel, heatmapTrace = F.heatmapTrace, heatLayout = F.heatLayout, crossShapes = F.crossShapes, MOD_COLORS = F.MOD_COLORS, SIM_SCALE = F.SIM_SCALE, SMALL_CONFIG = F.SMALL_CONFIG;

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

  F.views.comparison = mountComparison;
})(window.clipFigures);
