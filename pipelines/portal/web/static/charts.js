// Renders every <div class="chart" data-vl="..."> with vega-embed (scripts served locally from npm packages).
// CSP-safe: Vega expressions are evaluated by vega-interpreter (no eval / new Function); no injected styles.
(function () {
  "use strict";
  if (typeof vegaEmbed === "undefined" || typeof vegaInterpreter === "undefined") {
    document.querySelectorAll("div.chart").forEach(function (el) {
      el.textContent = "Charts unavailable: the chart scripts are not installed (make setup-web).";
    });
    return;
  }
  document.querySelectorAll("div.chart[data-vl]").forEach(function (el) {
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-vl")); } catch (e) { el.textContent = "bad chart data"; return; }
    vegaEmbed(el, spec, {
      actions: false,
      renderer: "svg",
      ast: true,
      expr: vegaInterpreter.expressionInterpreter,
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true }
    }).then(function () { el.setAttribute("data-rendered", "1"); })
      .catch(function (err) { el.textContent = "chart failed: " + err; console.error(err); });
  });
})();
