/* Mounts every figure of the page: lazily as it scrolls into view, again on every page that
 * mkdocs-material's instant navigation swaps in (document$). Runs last in assets/figures.js. */
(function (F) {
  "use strict";
  var h = F.h, loadPlotly = F.loadPlotly, getJSON = F.getJSON;

  function view(id) {
    if (!F.views[id]) throw new Error("no view " + JSON.stringify(id) + " in assets/figures.js");
    return F.views[id];
  }

  function mount(fig) {
    if (fig.dataset.mounted) return;
    fig.dataset.mounted = "loading";
    var opts = {};
    try { opts = JSON.parse(fig.getAttribute("data-options") || "{}"); } catch (e) { opts = {}; }
    Promise.all([loadPlotly(), getJSON(fig.getAttribute("data-src"))]).then(function (r) {
      return view(fig.getAttribute("data-figure"))(fig, r[1], opts, r[0]);
    }).then(function () {
      fig.dataset.mounted = "ready";
    }).catch(function (err) {
      fig.dataset.mounted = "error";
      var m = fig.querySelector(".fig-mount");
      if (m) m.replaceChildren(h("p", {className: "fx-error", text: "This figure could not be drawn: " + err.message}));
      console.error(err);
    });
  }

  var observer = null;
  function setup() {
    var figs = document.querySelectorAll("figure[data-figure]");
    if (!("IntersectionObserver" in window)) { figs.forEach(mount); return; }
    if (observer) observer.disconnect();
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) { observer.unobserve(e.target); mount(e.target); } });
    }, {rootMargin: "200px 0px"});
    figs.forEach(function (f) { observer.observe(f); });
  }

  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(setup);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})(window.clipFigures);
