/* Gap-closing animation (exporters/figures/animation.py): both modalities slide along the gap vector,
 * every frame drawn on one fixed PCA basis and one fixed range (motion on the screen is motion in the
 * space). Controls: the model, a range slider over the frames with a play/pause button, and whether
 * the points are re-normalized onto the sphere. One JSON per model, fetched when it is picked; hovering
 * a point shows its item in the panel. The file stores the frames compactly (encode_frames in the
 * exporter); unpack rebuilds them once per file.
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, fmt = F.fmt, MOD_COLORS = F.MOD_COLORS, NOSELECT_CONFIG = F.NOSELECT_CONFIG, MODEBAR = F.MODEBAR;
  var STEP_MS = 450;

  /* {points: {ax, ay, bx, by}: thousandths, frame 0 then each frame's change; renormalized, raw: per frame
   * {ca, cb, distance}, raw also shift [ax, ay, bx, by] added to frame 0} -> d.renormalized[f].ax etc. in
   * place (as decode_frames does in Python) */
  var KEYS = ["ax", "ay", "bx", "by"];
  function unpack(d) {
    if (!d.points) return d;
    KEYS.forEach(function (key) {
      var c = d.points[key][0].slice();
      d.renormalized.forEach(function (fr, i) {
        if (i) c = c.map(function (v, j) { return v + d.points[key][i][j]; });
        fr[key] = c.map(function (v) { return v / 1000; });
      });
    });
    var first = d.renormalized[0];
    d.raw.forEach(function (fr) {
      KEYS.forEach(function (key, k) { fr[key] = first[key].map(function (v) { return v + fr.shift[k]; }); });
    });
    delete d.points;
    return d;
  }

  function mountAnimation(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount");
    var last = meta.fractions.length - 1;
    var st = {model: meta.models[0].id, frame: 0, renorm: 1};
    var saved = F.readState(fig.id);
    if (meta.models.some(function (m) { return m.id === saved.model; })) st.model = saved.model;
    if (saved.frame !== undefined && +saved.frame >= 0 && +saved.frame <= last) st.frame = Math.round(+saved.frame);
    if (saved.renorm === "0") st.renorm = 0;

    var bar = h("div", {className: "fx-controls"});
    if (meta.models.length > 1) {
      bar.appendChild(F.select("Model", meta.models.map(function (m) { return [m.id, m.label]; }), st.model,
                               function (v) { st.model = v; stop(); update(); }));
    }
    bar.appendChild(F.checkbox("Re-normalize onto the sphere", st.renorm === 1, function (on) { st.renorm = on ? 1 : 0; update(); }));
    var sid = "fx-anim-" + fig.id;
    var slider = h("input", {type: "range", id: sid, min: "0", max: String(last), step: "1", value: String(st.frame)});
    slider.addEventListener("input", function () { st.frame = +slider.value; update(); });
    var play = h("button", {type: "button", className: "fx-play md-button", "aria-pressed": "false", text: "Play"});
    play.addEventListener("click", function () { if (timer) stop(); else start(); });
    bar.appendChild(h("span", {className: "fx-ctl"}, [h("label", {"for": sid, text: "Shift along the gap"}), slider]));
    bar.appendChild(play);
    var readout = h("p", {className: "fx-anim-readout", "aria-live": "polite"});
    var plot = h("div", {className: "fx-anim-plot"});
    mount.replaceChildren(bar, readout, plot);
    var panel = F.Panel(mount);

    var timer = null, touched = false;   // the URL keeps the state once the reader has changed it
    bar.addEventListener("input", function () { touched = true; }, true);
    bar.addEventListener("change", function () { touched = true; }, true);
    bar.addEventListener("click", function () { touched = true; }, true);
    function start() {
      if (st.frame >= last) { st.frame = 0; }
      play.textContent = "Pause"; play.setAttribute("aria-pressed", "true");
      timer = setInterval(function () {
        if (st.frame >= last) { stop(); return; }
        st.frame += 1; update();
      }, STEP_MS);
      update();
    }
    function stop() {
      if (timer) clearInterval(timer);
      timer = null; play.textContent = "Play"; play.setAttribute("aria-pressed", "false");
    }

    function model() { return meta.models.filter(function (m) { return m.id === st.model; })[0]; }
    var items = F.getJSON(meta.items);
    var hooked = false;

    function update() {
      var m = model();
      return Promise.all([F.getJSON(m.src), items]).then(function (r) {
        var d = unpack(r[0]), it = r[1];
        if (m.id !== st.model) return;                       // another model was picked meanwhile
        var variant = st.renorm ? "renormalized" : "raw", fr = d[variant][st.frame];
        var A = meta.modalities[0], B = meta.modalities[1];
        var traces = [
          {type: "scatter", mode: "markers", x: fr.ax, y: fr.ay, name: esc(A.label), customdata: fr.ax.map(function (_, i) { return [0, i]; }),
           marker: {color: MOD_COLORS[0], size: 7, opacity: 0.8}, hovertemplate: esc(A.label) + " #%{customdata[1]}<extra></extra>"},
          {type: "scatter", mode: "markers", x: fr.bx, y: fr.by, name: esc(B.label), customdata: fr.bx.map(function (_, i) { return [1, i]; }),
           marker: {color: MOD_COLORS[1], size: 7, opacity: 0.8, symbol: "diamond"}, hovertemplate: esc(B.label) + " #%{customdata[1]}<extra></extra>"},
          {type: "scatter", mode: "lines+markers", x: [fr.ca[0], fr.cb[0]], y: [fr.ca[1], fr.cb[1]], name: "centroids",
           line: {color: "#000", width: 1.5, dash: "dot"}, marker: {symbol: "x-thin", size: 14, color: "#000", line: {width: 3, color: "#000"}},
           hoverinfo: "skip"}
        ];
        var layout = {height: 460, margin: {l: 50, r: 10, t: 10, b: 45}, modebar: MODEBAR, dragmode: false, hovermode: "closest",
                      xaxis: {title: {text: "PC 1 of the original embeddings (" + Math.round(100 * d.variance_share[0]) + "% of the variance)"},
                              range: d.range.x, zeroline: false, autorange: false},
                      yaxis: {title: {text: "PC 2 (" + Math.round(100 * d.variance_share[1]) + "%)"}, range: d.range.y, zeroline: false,
                              autorange: false, scaleanchor: "x"},
                      legend: {orientation: "h", y: -0.15}, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
        slider.value = String(st.frame);
        var pctShift = Math.round(100 * meta.fractions[st.frame]);
        slider.setAttribute("aria-valuetext", pctShift + "% of the gap");
        readout.textContent = "Step " + st.frame + " of " + last + ": shifted by " + pctShift + "% of the modality distance (Δ = " +
          fmt(d.deltas[st.frame], 3) + "), " + (st.renorm ? "re-normalized" : "raw") + "; the modality distance in the full space is now " +
          fmt(fr.distance, 3) + " (it was " + fmt(d[variant][0].distance, 3) + ").";
        return Plotly.react(plot, traces, layout, NOSELECT_CONFIG).then(function () {
          if (!hooked) {
            hooked = true;
            plot.on("plotly_hover", function (ev) {
              var pt = ev.points && ev.points[0];
              if (!pt || !pt.customdata) return;
              panel.show([F.itemNode(it, pt.customdata[0], pt.customdata[1])]);
              fig.setAttribute("data-hover", pt.customdata.join(":"));
            });
          }
          if (touched) F.writeState(fig.id, {model: st.model, frame: st.frame, renorm: st.renorm});
          fig.setAttribute("data-state", [st.model, st.frame, st.renorm].join("|"));
        });
      });
    }
    return update();
  }

  F.views.animation = mountAnimation;
})(window.clipFigures);
