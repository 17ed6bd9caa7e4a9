/* Augmentations: per source image and augmentation, the similarity heatmaps of its augmented
 * copies under each model, hover linked across models (exporters/figures/augmentations.py).
 */
(function (F) {
  "use strict";
  var url = F.url, getJSON = F.getJSON, getMatrix = F.getMatrix, h = F.h, card = F.card, fmt = F.fmt, readState = F.readState, writeState = F.writeState, select = F.select, itemNode = F.itemNode, Panel = F.Panel, heatmapTrace = F.heatmapTrace, heatLayout = F.heatLayout, crossShapes = F.crossShapes, SIM_SCALE = F.SIM_SCALE, SMALL_CONFIG = F.SMALL_CONFIG;

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

  F.views.augmentations = mountAugmentations;
})(window.clipFigures);
