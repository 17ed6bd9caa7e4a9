/* In-modal difference per model: image-image minus text-text similarity on a diverging scale
 * centred at zero (exporters/figures/inmodal.py).
 */
(function (F) {
  "use strict";
  var getJSON = F.getJSON, getMatrix = F.getMatrix, esc = F.esc, h = F.h, card = F.card, fmt = F.fmt, itemNode = F.itemNode, Panel = F.Panel, heatLayout = F.heatLayout, DIV_SCALE = F.DIV_SCALE, SMALL_CONFIG = F.SMALL_CONFIG;

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

  F.views.inmodal = mountInmodal;
})(window.clipFigures);
