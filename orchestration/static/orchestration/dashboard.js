/* Charts of the staff boards, drawn with the vendored ECharts (vendor/echarts/).
 *
 * The page carries its data in a json_script tag (#dashboard-charts): a list of charts, each
 * {id, kind: "bar"|"line", labels, series: [{name, values}], unit, decimals, yMax}. Values are
 * already rounded on the server; this file only formats them in the page's language. No inline
 * script: the staff boards' Content-Security-Policy allows scripts from this site only.
 */
(function () {
  "use strict";

  function formatter(spec) {
    var lang = document.documentElement.lang || "en";
    var number = new Intl.NumberFormat(lang, {
      minimumFractionDigits: spec.decimals,
      maximumFractionDigits: spec.decimals,
    });
    return function (value) {
      if (value === null || value === undefined || value === "-") {
        return "—";
      }
      var text = number.format(value);
      if (spec.unit === "%") {
        return text + " %";
      }
      return spec.unit ? text + " " + spec.unit : text;
    };
  }

  function axisFormatter(spec) {
    var lang = document.documentElement.lang || "en";
    var number = new Intl.NumberFormat(lang, { maximumFractionDigits: spec.decimals });
    return function (value) {
      return number.format(value) + (spec.unit === "%" ? " %" : "");
    };
  }

  function option(spec, colour) {
    var format = formatter(spec);
    return {
      animation: false,
      color: ["#9333ea", "#0ea5e9", "#16a34a"],
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        valueFormatter: format,
      },
      xAxis: {
        type: "category",
        data: spec.labels,
        axisLabel: { color: colour, hideOverlap: true },
        axisTick: { alignWithLabel: true },
      },
      yAxis: {
        type: "value",
        max: spec.yMax === null ? null : spec.yMax,
        minInterval: spec.decimals ? null : 1,
        axisLabel: { color: colour, formatter: axisFormatter(spec) },
      },
      series: spec.series.map(function (series) {
        return {
          name: series.name,
          type: spec.kind,
          data: series.values,
          connectNulls: false,
          barMaxWidth: 24,
          showSymbol: spec.kind === "line",
          symbolSize: 5,
        };
      }),
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var specs = JSON.parse(source.textContent).charts;
    var drawn = [];
    specs.forEach(function (spec) {
      var element = document.getElementById(spec.id);
      if (!element) {
        return;
      }
      var colour = getComputedStyle(element).color || "#4b5563";
      var chart = echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(option(spec, colour));
      element.setAttribute("data-points", String(spec.labels.length));
      drawn.push(chart);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (chart) {
        chart.resize();
      });
    });
    document.documentElement.setAttribute("data-charts-ready", String(drawn.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
