/*
 * The routing profile form: a live total of the weights as staff type.
 *
 * No inline code (a strict Content-Security-Policy allows it): the page renders an
 * <output data-weights-total data-fields="stock,status,..."> with its sentences in the
 * reader's language (data-ok, data-off, data-negative; "{total}" is replaced), and this file
 * keeps it current. Other scripts on the page (a what-if canvas) can read the weights and
 * follow changes through window.routingProfileForm.
 */
(function () {
  "use strict";

  var listeners = [];

  function inputsOf(output) {
    var form = output.closest("form") || document;
    return (output.dataset.fields || "")
      .split(",")
      .map(function (name) {
        return form.querySelector('input[name="' + name + '"]');
      })
      .filter(Boolean);
  }

  function weights(inputs) {
    var out = {};
    inputs.forEach(function (input) {
      var text = input.value.trim();
      out[input.name] = text === "" ? 0 : Number(text);
    });
    return out;
  }

  function setUp(output) {
    var inputs = inputsOf(output);

    function update() {
      var values = weights(inputs);
      var total = 0;
      var negative = false;
      var valid = true;
      Object.keys(values).forEach(function (name) {
        var value = values[name];
        if (!Number.isInteger(value)) {
          valid = false;
        } else if (value < 0) {
          negative = true;
        } else {
          total += value;
        }
      });
      var state = negative ? "negative" : valid && total === 100 ? "ok" : "off";
      var text = (state === "ok" ? output.dataset.ok : output.dataset.off).replace(
        "{total}",
        String(total)
      );
      if (negative) {
        text += " · " + output.dataset.negative;
      }
      output.textContent = text;
      output.dataset.state = state;
      listeners.forEach(function (listener) {
        listener(values, total, state);
      });
    }

    inputs.forEach(function (input) {
      input.addEventListener("input", update);
    });
    update();
    return function () {
      return weights(inputs);
    };
  }

  var read = function () {
    return {};
  };

  window.routingProfileForm = {
    weights: function () {
      return read();
    },
    onChange: function (listener) {
      listeners.push(listener);
    },
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-weights-total]").forEach(function (output) {
      read = setUp(output);
    });
  });
})();
