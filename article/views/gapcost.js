/* Cost of closing the gap: retrieval (a chosen R@k and direction) and the loss against the shift along
 * the gap vector, one curve per model, the trained (0) and the closed (1) state marked
 * (exporters/figures/gapcost.py). A select picks the metric, a checkbox re-normalisation; both are kept
 * in the URL and in data-state ("<metric>|<variant>").
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, select = F.select, checkbox = F.checkbox, readState = F.readState,
      writeState = F.writeState, LINE_COLORS = F.LINE_COLORS, NOSELECT_CONFIG = F.NOSELECT_CONFIG, MODEBAR = F.MODEBAR;

  function layout(meta, ytitle, yrange) {
    var x1 = meta.fractions[meta.closed];
    return {height: 460, margin: {l: 60, r: 10, t: 40, b: 40}, modebar: MODEBAR, hovermode: "closest",
            xaxis: {title: {text: "shift along the gap (1 = gap closed)"}, zeroline: false},
            yaxis: {title: {text: esc(ytitle)}, range: yrange},
            shapes: [{type: "line", xref: "x", yref: "paper", x0: x1, x1: x1, y0: 0, y1: 1,
                      line: {color: "#595959", width: 1, dash: "dot"}}],
            annotations: [{xref: "x", yref: "paper", x: x1, y: 1, yanchor: "bottom", showarrow: false,
                           text: "gap closed", font: {size: 11, color: "#595959"}}],
            legend: {orientation: "h", x: 0, y: -0.22, yanchor: "top"}, dragmode: false,
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
  }

  /* one line per model and its two marked states (circle: as trained; diamond: gap closed) */
  function traces(meta, variant, key, what) {
    var out = [], c = meta.closed;
    meta.models.forEach(function (m, k) {
      if (!m.curves || m.curves[variant][key] == null) return;   // null or absent: no such curve
      var y = m.curves[variant][key], col = LINE_COLORS[k % LINE_COLORS.length], name = esc(m.label);
      var tip = name + "<br>shift %{x:.1f} of the closing shift<br>" + esc(what) + " %{y:.3f}";
      // the line's own points at 0 and 1 name their state too: whichever trace takes the hover says it
      var states = meta.fractions.map(function (_, i) { return i === 0 ? "<br>as trained" : i === c ? "<br>gap closed" : ""; });
      out.push({type: "scatter", mode: "lines+markers", x: meta.fractions, y: y, name: name, legendgroup: name,
                line: {color: col, width: 2}, marker: {color: col, size: 5}, text: states,
                hovertemplate: tip + "%{text}<extra></extra>"});
      out.push({type: "scatter", mode: "markers", x: [meta.fractions[0], meta.fractions[c]], y: [y[0], y[c]],
                legendgroup: name, showlegend: false, text: ["as trained", "gap closed"],
                marker: {color: col, size: 12, symbol: ["circle", "diamond"], line: {color: "#fff", width: 1}},
                hovertemplate: tip + "<br>%{text}<extra></extra>"});
    });
    return out;
  }

  function mountGapcost(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount");
    var st = readState(fig.id);
    var keys = meta.metrics.map(function (x) { return x.key; });
    var metric = keys.indexOf(st.m) >= 0 ? st.m : keys[0];
    var variant = meta.variants.indexOf(st.v) >= 0 ? st.v : meta.variants[0];
    var left = h("div", {className: "fx-gapcost-retrieval", style: "flex: 1 1 320px; min-width: 0"});
    var right = h("div", {className: "fx-gapcost-loss", style: "flex: 1 1 320px; min-width: 0"});
    var hasLoss = meta.models.some(function (m) { return m.curves && m.curves.renormalized.loss !== null; });
    right.hidden = !hasLoss;
    var note = h("p", {className: "fx-meta", text: hasLoss ? "" :
      "No model of this section has a logit scale, so there is no loss curve."});
    var controls = h("div", {className: "fx-controls"}, [
      select("Metric", meta.metrics.map(function (x) { return [x.key, x.label]; }), metric, function (v) {
        metric = v; draw(true);
      }),
      checkbox("Re-normalise onto the sphere after the shift", variant === "renormalized", function (on) {
        variant = on ? "renormalized" : "raw"; draw(true);
      })
    ]);
    mount.replaceChildren(controls, h("div", {className: "fx-gapcost-plots", style: "display: flex; flex-wrap: wrap; gap: 1em"},
                                      [left, right]), note);

    function draw(changed) {
      var label = meta.metrics[keys.indexOf(metric)].label;
      var lay = layout(meta, label, [-0.02, 1.02]);
      var task = meta.zero_shot ? meta.zero_shot.tasks.filter(function (t) { return t.key === metric; })[0] : null;
      if (task) {   // zero-shot: the floor of always answering the commonest class
        lay.shapes.push({type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: task.majority, y1: task.majority,
                         line: {color: "#595959", width: 1, dash: "dash"}});
        lay.annotations.push({xref: "paper", yref: "y", x: 0, y: task.majority, xanchor: "left", yanchor: "bottom",
                              showarrow: false, text: "always the commonest class", font: {size: 11, color: "#595959"}});
      }
      var done = [Plotly.react(left, traces(meta, variant, metric, label), lay, NOSELECT_CONFIG)];
      if (hasLoss) {
        done.push(Plotly.react(right, traces(meta, variant, "loss", "loss"),
                               layout(meta, "loss (symmetric InfoNCE)", undefined), NOSELECT_CONFIG));
      }
      return Promise.all(done).then(function () {
        if (changed) writeState(fig.id, {m: metric, v: variant});   // the URL changes only when the reader does
        fig.setAttribute("data-state", metric + "|" + variant);
      });
    }
    return draw();
  }

  F.views.gapcost = mountGapcost;
})(window.clipFigures);
