/* Where the gap lives (exporters/figures/gapdims.py): the gap per embedding dimension, largest first,
 * one curve per model (or the cumulative share of the squared gap), and beside it the ablation of
 * Schrodi et al.: the top-k gap dimensions dropped and the rows re-normalised, the gap or R@1 against k.
 * Models whose coordinates are not defined (embeddings recovered from a similarity matrix) get a note
 * and no curve. Hover fills the panel below with the numbers of the point under the pointer.
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, fmt = F.fmt, LINE_COLORS = F.LINE_COLORS, SMALL_CONFIG = F.SMALL_CONFIG;

  var GAP_VIEWS = [["gap", "gap per dimension"], ["share", "cumulative share of ‖Δ‖²"]];
  var ABL_VIEWS = [["distance", "modality distance"], ["rmg", "relative modality gap"],
                   ["r1_x2y", "R@1 A→B"], ["r1_y2x", "R@1 B→A"]];

  function layout(xTitle, yTitle, yRange) {
    return {height: 330, margin: {l: 60, r: 10, t: 10, b: 50}, dragmode: false, hovermode: "closest",
            xaxis: {title: {text: esc(xTitle)}, zeroline: false}, yaxis: {title: {text: esc(yTitle)}, zeroline: false, range: yRange},
            showlegend: true, legend: {orientation: "h", y: -0.25},
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
  }

  function mountGapdims(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount");
    var a = meta.modalities[0], b = meta.modalities[1];
    var abl = ABL_VIEWS.map(function (v) { return [v[0], v[1].replace("A", a).replace("B", b)]; });
    var defined = [];
    meta.models.forEach(function (m, k) {
      if (m.coordinates) defined.push({m: m, col: LINE_COLORS[k % LINE_COLORS.length]});
    });
    var nodes = meta.note ? [h("p", {className: "fx-note", "data-role": "not-defined", text: meta.note})] : [];
    if (!defined.length) {
      mount.replaceChildren.apply(mount, nodes);
      fig.setAttribute("data-state", "none-defined");
      return Promise.resolve();
    }
    var st = F.readState(fig.id), state = {
      gap: GAP_VIEWS.some(function (v) { return v[0] === st.gap; }) ? st.gap : "gap",
      abl: ABL_VIEWS.some(function (v) { return v[0] === st.abl; }) ? st.abl : "distance"
    };
    var gapDiv = h("div", {className: "fx-gapdims-gap"}), ablDiv = h("div", {className: "fx-gapdims-ablation"});
    var controls = h("div", {className: "fx-controls"}, [
      F.select("Gap panel:", GAP_VIEWS, state.gap, function (v) { state.gap = v; redraw(true); }),
      F.select("Ablation panel:", abl, state.abl, function (v) { state.abl = v; redraw(true); })
    ]);
    var grid = h("div", {className: "fx-grid fx-gapdims"}, [
      h("div", {}, [h("p", {className: "fx-card-title", text: "The gap, dimension by dimension"}), gapDiv]),
      h("div", {}, [h("p", {className: "fx-card-title", text: "Dropping the top k gap dimensions"}), ablDiv])]);
    var panelHost = h("div", {});
    mount.replaceChildren.apply(mount, [controls, grid].concat(nodes, [panelHost]));
    var panel = F.Panel(panelHost);
    panel.show([], "Hover a point of either panel to see its numbers here.");

    function gapTraces() {
      var traces = defined.map(function (d) {
        var m = d.m, rank = m.abs_gap.map(function (_, i) { return i + 1; });
        return {type: "scatter", mode: "lines+markers", x: rank, y: state.gap === "gap" ? m.abs_gap : m.share,
                name: esc(m.label), line: {color: d.col, width: 2, shape: state.gap === "share" ? "hv" : "linear"},
                marker: {size: 4, color: d.col}, customdata: m.dimension, hovertemplate: "<extra></extra>"};
      });
      if (state.gap === "share") {
        var d0 = defined[0].m.dims;
        traces.push({type: "scatter", mode: "lines", x: [0, d0], y: [0, 1], name: "spread evenly",
                     line: {color: "#777", dash: "dot", width: 1}, hoverinfo: "skip"});
      }
      return traces;
    }
    function ablTraces() {
      return defined.map(function (d) {
        var m = d.m;
        return {type: "scatter", mode: "lines+markers", x: m.ablation.k, y: m.ablation[state.abl], name: esc(m.label),
                line: {color: d.col, width: 2}, marker: {size: 5, color: d.col}, hovertemplate: "<extra></extra>"};
      });
    }
    function title(list, key) { return list.filter(function (v) { return v[0] === key; })[0][1]; }

    function redraw(changed) {
      var yr = state.gap === "share" ? [0, 1.02] : undefined;
      var ablY = state.abl.slice(0, 2) === "r1" ? [0, 1.02] : undefined;
      return Promise.all([
        Plotly.react(gapDiv, gapTraces(), layout("rank of the dimension (largest gap first)",
          state.gap === "gap" ? "|mean " + a + " − mean " + b + "|" : "share of ‖Δ‖² in the top dimensions", yr), SMALL_CONFIG),
        Plotly.react(ablDiv, ablTraces(), layout("k, gap dimensions dropped", title(abl, state.abl), ablY), SMALL_CONFIG)
      ]).then(function () {
        fig.setAttribute("data-state", state.gap + "|" + state.abl);
        if (changed) F.writeState(fig.id, state);
      });
    }

    function row(label, value) { return h("div", {}, [h("strong", {text: label + ": "}), document.createTextNode(value)]); }
    return redraw(false).then(function () {
      gapDiv.on("plotly_hover", function (ev) {
        var p = ev.points[0], d = defined[p.curveNumber];
        if (!d) return;
        var i = p.pointIndex, m = d.m;
        panel.show([h("div", {className: "fx-item", "data-role": "gap-point", style: "max-width: 32em"}, [
          h("div", {className: "fx-item-head", text: m.label}),
          row("rank", String(i + 1) + " of " + m.dims), row("dimension", String(m.dimension[i])),
          row("|mean " + a + " − mean " + b + "|", fmt(m.abs_gap[i], 4)),
          row("share of the squared gap in the top " + (i + 1), F.pct(m.share[i]))])]);
      });
      ablDiv.on("plotly_hover", function (ev) {
        var p = ev.points[0], d = defined[p.curveNumber];
        if (!d) return;
        var i = p.pointIndex, ab = d.m.ablation;
        panel.show([h("div", {className: "fx-item", "data-role": "ablation-point", style: "max-width: 32em"}, [
          h("div", {className: "fx-item-head", text: d.m.label + ", top " + ab.k[i] + " gap dimensions dropped"}),
          row("modality distance", fmt(ab.distance[i], 3) + " (" + fmt(ab.distance[0], 3) + " with all)"),
          row("relative modality gap", fmt(ab.rmg[i], 3)),
          row("R@1 " + a + "→" + b, fmt(ab.r1_x2y[i], 2) + " (" + fmt(ab.r1_x2y[0], 2) + " with all)"),
          row("R@1 " + b + "→" + a, fmt(ab.r1_y2x[i], 2) + " (" + fmt(ab.r1_y2x[0], 2) + " with all)")])]);
      });
    });
  }

  F.views.gapdims = mountGapdims;
})(window.clipFigures);
