// The booth's live help: budget bar and what no longer fits (knapsack), count left (approval),
// points left (cumulative). The form works without this script; the server checks every ballot.
(function () {
  "use strict";
  var form = document.getElementById("booth");
  if (!form) { return; }
  var kind = form.dataset.kind;
  var budget = Number(form.dataset.budget);
  var lang = document.documentElement.lang || "en";
  var currency = form.dataset.currency;
  var digits = new Intl.NumberFormat("en", { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits;
  var money = function (minor) {
    var whole = Number.isInteger(minor / Math.pow(10, digits));
    return new Intl.NumberFormat(lang, { style: "currency", currency: currency,
      minimumFractionDigits: whole ? 0 : digits, maximumFractionDigits: whole ? 0 : digits }).format(minor / Math.pow(10, digits));
  };
  var fill = function (template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  };
  var choices = Array.prototype.slice.call(form.querySelectorAll(".choice"));

  function update() {
    if (kind === "knapsack") {
      var spent = 0;
      choices.forEach(function (li) {
        var box = li.querySelector("input[type=checkbox]");
        if (box.checked) { spent += Number(li.dataset.cost); }
      });
      var left = budget - spent;
      choices.forEach(function (li) {
        var box = li.querySelector("input[type=checkbox]");
        var fits = box.checked || Number(li.dataset.cost) <= left;
        li.classList.toggle("does-not-fit", !fits);
        box.disabled = !fits;  // greyed out: it no longer fits; uncheck another to make room
      });
      var bar = document.getElementById("budget-bar");
      bar.value = Math.min(spent, budget);
      var text = document.getElementById("budget-text");
      text.parentNode.classList.toggle("over", left < 0);
      text.textContent = left >= 0
        ? fill(form.dataset.tSpent, { spent: money(spent), budget: money(budget), left: money(left) })
        : fill(form.dataset.tOver, { spent: money(spent), budget: money(budget), over: money(-left) });
    } else if (kind === "approval" && form.dataset.maxProjects) {
      var max = Number(form.dataset.maxProjects);
      var count = form.querySelectorAll("input[type=checkbox]:checked").length;
      document.getElementById("count-text").textContent = fill(form.dataset.tCount, { count: count, left: Math.max(max - count, 0) });
    } else if (kind === "cumulative" && form.dataset.maxPoints) {
      var total = 0;
      form.querySelectorAll("input.points").forEach(function (input) { total += Math.max(0, parseInt(input.value, 10) || 0); });
      var maxPoints = Number(form.dataset.maxPoints);
      var el = document.getElementById("points-text");
      el.textContent = fill(form.dataset.tPoints, { used: total, left: Math.max(maxPoints - total, 0) });
      el.classList.toggle("over", total > maxPoints);
    }
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  // Disabled boxes are not sent; re-enable them on submit so the server sees exactly what was ticked.
  form.addEventListener("submit", function () {
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.disabled = false; });
  });
  update();
})();
