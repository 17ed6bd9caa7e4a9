/* Loss landscape: the loss while the modalities slide along the gap vector, one curve per model,
 * the trained and the closed state marked (exporters/figures/landscape.py).
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, LINE_COLORS = F.LINE_COLORS, NOSELECT_CONFIG = F.NOSELECT_CONFIG, MODEBAR = F.MODEBAR;

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

  F.views.landscape = mountLandscape;
})(window.clipFigures);
