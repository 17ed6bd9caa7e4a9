/* The shape of the space (exporters/figures/geometry.py): a grid, one column per model, one row per
 * measure (and modality). The numbers and their wording come from the exporter; a cell's colour is
 * where its value lies in the measure's possible range, or (a select) among the models of the row.
 * Cells of a measure that is not defined for a model are grey, with no number. Hover a cell: the panel
 * below gives the value with the measure's definition, its range and its source.
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, SMALL_CONFIG = F.SMALL_CONFIG;
  /* light blues: black cell text keeps at least 6:1 contrast on every colour (not-defined cells are grey) */
  var SCALE = [[0, "#f7fbff"], [0.5, "#c6dbef"], [1, "#4292c6"]];
  var MODES = [["range", "the measure's possible range"], ["models", "these models, lowest to highest"]];

  function position(r, mode) {
    var vals = r.values.filter(function (v) { return v !== null; });
    var lo = mode === "range" ? r.range[0] : Math.min.apply(null, vals);
    var hi = mode === "range" ? r.range[1] : Math.max.apply(null, vals);
    return r.values.map(function (v) {
      if (v === null) return null;
      if (!(hi > lo)) return 0.5;
      return Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
    });
  }

  function mountGeometry(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount");
    var st = F.readState(fig.id);
    var state = {colour: MODES.some(function (m) { return m[0] === st.colour; }) ? st.colour : "range"};
    var plot = h("div", {className: "fx-geometry"}), panelHost = h("div", {});
    var controls = h("div", {className: "fx-controls"}, [
      F.select("Colour each row by its place in:", MODES, state.colour, function (v) { state.colour = v; draw(true); })]);
    mount.replaceChildren(controls, plot, panelHost);
    var panel = F.Panel(panelHost);
    panel.show([], "Hover a cell to see its value, the measure's definition and its source here.");
    var R = meta.rows.length, M = meta.models.length;
    var xs = meta.models.map(function (m, j) { return j; });
    var ys = meta.rows.map(function (r, i) { return i; });

    function shapes() {
      var s = [];
      meta.rows.forEach(function (r, i) {
        r.values.forEach(function (v, j) {
          if (v === null) s.push({type: "rect", xref: "x", yref: "y", x0: j - 0.5, x1: j + 0.5, y0: i - 0.5, y1: i + 0.5,
                                  line: {color: "#fff", width: 1}, fillcolor: "#e0e0e0", layer: "below"});
        });
      });
      return s;
    }

    function draw(changed) {
      var z = meta.rows.map(function (r) { return position(r, state.colour); });
      var text = meta.rows.map(function (r) { return r.cells.map(function (c, j) { return r.values[j] === null ? "" : c; }); });
      var trace = {type: "heatmap", x: xs, y: ys, z: z, zmin: 0, zmax: 1, colorscale: SCALE, xgap: 2, ygap: 2,
                   text: text, texttemplate: "%{text}", textfont: {size: 12, color: "#000"}, hoverongaps: true,
                   hovertemplate: "%{customdata}<extra></extra>",
                   customdata: meta.rows.map(function (r) {
                     return meta.models.map(function (m, j) { return esc(m.label) + "<br>" + esc(r.label) + ": " + esc(r.cells[j]); });
                   }),
                   colorbar: {title: {text: state.colour === "range" ? "place in the<br>possible range" : "place among<br>these models",
                                      side: "right"}, thickness: 12, len: 0.9, tickvals: [0, 1], ticktext: ["low", "high"]}};
      var annotations = [];
      meta.rows.forEach(function (r, i) {
        r.values.forEach(function (v, j) {
          if (v === null) annotations.push({x: j, y: i, xref: "x", yref: "y", text: "not defined", showarrow: false,
                                            font: {size: 11, color: "#333"}});
        });
      });
      var layout = {height: 60 + 34 * R + 90, margin: {l: 10, r: 10, t: 10, b: 10}, dragmode: false,
                    xaxis: {tickvals: xs, ticktext: meta.models.map(function (m) { return esc(m.label); }), side: "top",
                            tickangle: M > 3 ? -20 : 0, showgrid: false, zeroline: false, automargin: true, fixedrange: true},
                    yaxis: {tickvals: ys, ticktext: meta.rows.map(function (r) { return esc(r.label); }), autorange: "reversed",
                            showgrid: false, zeroline: false, automargin: true, fixedrange: true},
                    shapes: shapes(), annotations: annotations,
                    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
      return Plotly.react(plot, [trace], layout, SMALL_CONFIG).then(function () {
        fig.setAttribute("data-state", state.colour);
        if (changed) F.writeState(fig.id, state);
      });
    }

    function line(label, value) { return h("div", {}, [h("strong", {text: label + ": "}), document.createTextNode(value)]); }
    return draw(false).then(function () {
      plot.on("plotly_hover", function (ev) {
        var p = ev.points[0], i = p.y, j = p.x, r = meta.rows[i], m = meta.models[j];
        if (!r || !m) return;
        var value = r.values[j] === null ? meta.not_defined : r.cells[j];
        panel.show([h("div", {className: "fx-item fx-measure", "data-role": "measure", "data-key": r.key, "data-model": m.id,
                                    style: "max-width: 40em"}, [
          h("div", {className: "fx-item-head", text: r.label + " of " + m.label}),
          line("value", value), line("definition", r.definition), line("range", r.range_text),
          line("source", r.source)])]);
      });
    });
  }

  F.views.geometry = mountGeometry;
})(window.clipFigures);
