/*
 * The routing canvas: weights as sliders, their live total, and a what-if that the server
 * runs again (debounced) as a slider moves.
 *
 * No inline code (a strict Content-Security-Policy allows it). Every sentence comes from the
 * page or the server in the reader's language; this file only places them. With "keep the
 * total at 100 %" on, moving one weight spreads the difference over the others in proportion
 * to their values (whole percentages, largest remainders first), so the what-if can always run.
 * "Save as draft" is enabled only when the numbers shown are those of the weights shown.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  function setUp(root) {
    var sliders = Array.prototype.slice.call(root.querySelectorAll('input[type="range"]'));
    var total = root.querySelector("#canvas-total");
    var keep = root.querySelector("#canvas-keep");
    var status = root.querySelector("#canvas-status");
    var table = root.querySelector("#canvas-table");
    var summary = root.querySelector("#canvas-summary");
    var active = root.querySelector("#canvas-active");
    var orders = root.querySelector("#canvas-orders");
    var merchant = root.querySelector("#canvas-merchant");
    var saveForm = root.querySelector("#canvas-save-form");
    var saveButton = root.querySelector("#canvas-save");
    var weightErrors = root.querySelector("#canvas-weight-errors");
    var csrf = root.querySelector('input[name="csrfmiddlewaretoken"]');
    var timer = null;
    var sequence = 0;
    var controller = null;

    function weights() {
      var out = {};
      sliders.forEach(function (slider) {
        out[slider.name] = Number(slider.value);
      });
      return out;
    }

    function sum(values) {
      return Object.keys(values).reduce(function (acc, key) {
        return acc + values[key];
      }, 0);
    }

    function showValues() {
      sliders.forEach(function (slider) {
        var output = root.querySelector('output[for="' + slider.id + '"]');
        if (output) {
          output.textContent = slider.value + " %";
        }
      });
      var sumNow = sum(weights());
      var ok = sumNow === 100;
      total.textContent = (ok ? root.dataset.totalOk : root.dataset.totalOff).replace(
        "{total}",
        String(sumNow)
      );
      total.dataset.state = ok ? "ok" : "off";
      return ok;
    }

    // Spread 100 - moved over the other sliders in proportion to their values.
    function rebalance(moved) {
      var others = sliders.filter(function (slider) {
        return slider !== moved;
      });
      var target = 100 - Number(moved.value);
      var current = others.reduce(function (acc, s) {
        return acc + Number(s.value);
      }, 0);
      var shares = others.map(function (s) {
        return current > 0 ? (Number(s.value) * target) / current : target / others.length;
      });
      var floors = shares.map(Math.floor);
      var left =
        target -
        floors.reduce(function (acc, v) {
          return acc + v;
        }, 0);
      var order = shares
        .map(function (share, index) {
          return { index: index, remainder: share - floors[index] };
        })
        .sort(function (a, b) {
          return b.remainder - a.remainder || a.index - b.index;
        });
      for (var i = 0; i < left; i++) {
        floors[order[i % order.length].index] += 1;
      }
      others.forEach(function (slider, index) {
        slider.value = String(floors[index]);
      });
    }

    function setSaveable(saveable) {
      if (!saveButton) {
        return;
      }
      saveButton.disabled = !saveable;
      if (saveable) {
        var values = weights();
        Object.keys(values).forEach(function (name) {
          saveForm.querySelector('input[name="' + name + '"]').value = String(values[name]);
        });
        saveForm.querySelector('input[name="orders"]').value = orders.value;
        saveForm.querySelector('input[name="merchant"]').value = merchant ? merchant.value : "";
      }
    }

    function clearErrors() {
      weightErrors.textContent = "";
      root.querySelectorAll("[data-error]").forEach(function (el) {
        el.textContent = "";
      });
    }

    function showErrors(errors) {
      var weightsErrors = (errors && errors.weights) || {};
      var general = [];
      Object.keys(weightsErrors).forEach(function (key) {
        var target = root.querySelector('[data-error="' + key + '"]');
        var text = [].concat(weightsErrors[key]).join(" ");
        if (target) {
          target.textContent = text;
        } else {
          general.push(text);
        }
      });
      Object.keys(errors || {}).forEach(function (key) {
        if (key !== "weights") {
          general.push([].concat(errors[key]).join(" "));
        }
      });
      weightErrors.textContent = general.join(" ");
    }

    function render(body) {
      var report = body.report;
      var rows = table.tBodies[0].rows;
      report.table.forEach(function (line, index) {
        var cells = rows[index].cells;
        cells[0].textContent = line.label;
        line.cells.forEach(function (text, col) {
          cells[col + 1].textContent = text;
          cells[col + 1].dataset.metric = line.metric;
        });
      });
      var heads = table.tHead.rows[0].cells;
      report.heads.forEach(function (text, col) {
        heads[col + 1].textContent = text;
      });
      summary.textContent = report.summary;
      active.textContent = report.active_profiles_line;
      status.textContent = report.period;
      Object.keys(body.meaning).forEach(function (name) {
        var target = root.querySelector('[data-meaning="' + name + '"]');
        if (target) {
          target.textContent = body.meaning[name];
        }
      });
    }

    function run() {
      timer = null;
      clearErrors();
      if (!showValues()) {
        status.dataset.state = "waiting";
        status.textContent = root.dataset.waiting;
        setSaveable(false);
        return;
      }
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      var mine = ++sequence;
      status.dataset.state = "loading";
      status.textContent = root.dataset.loading;
      setSaveable(false);
      var payload = { weights: weights(), orders: Number(orders.value) };
      if (merchant && merchant.value) {
        payload.merchant = Number(merchant.value);
      }
      fetch(root.dataset.endpoint, {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf ? csrf.value : "",
        },
        body: JSON.stringify(payload),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
        })
        .then(function (answer) {
          if (mine !== sequence) {
            return;
          }
          if (!answer.ok) {
            status.dataset.state = "error";
            status.textContent = answer.body.detail || root.dataset.failed;
            if (answer.body.errors) {
              showErrors(answer.body.errors);
            }
            return;
          }
          render(answer.body);
          status.dataset.state = "ready";
          root.dataset.runs = String(Number(root.dataset.runs || "0") + 1);
          setSaveable(true);
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") {
            return;
          }
          if (mine === sequence) {
            status.dataset.state = "error";
            status.textContent = root.dataset.failed;
          }
        });
    }

    function schedule() {
      setSaveable(false);
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(run, DEBOUNCE_MS);
    }

    sliders.forEach(function (slider) {
      slider.addEventListener("input", function () {
        if (keep.checked) {
          rebalance(slider);
        }
        showValues();
        schedule();
      });
    });
    orders.addEventListener("change", schedule);
    if (merchant) {
      merchant.addEventListener("change", schedule);
    }
    keep.addEventListener("change", function () {
      showValues();
    });
    run();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("routing-canvas");
    if (root) {
      setUp(root);
    }
  });
})();
