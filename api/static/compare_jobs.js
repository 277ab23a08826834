// The comparison page while some rules are counted in the background (api/long_work.py): polls each
// job's status every two seconds, shows its progress, and reloads the page once every job has finished,
// so the figures appear. Without this script the page says the same and offers a reload link.
(function () {
  "use strict";
  var notice = document.getElementById("compare-pending");
  if (!notice || !window.fetch || !window.Promise) { return; }
  var cells = Array.prototype.slice.call(document.querySelectorAll("td[data-job]"));
  var urls = [];
  cells.forEach(function (cell) {
    if (urls.indexOf(cell.dataset.job) < 0) { urls.push(cell.dataset.job); }
  });
  if (!urls.length) { return; }
  var states = JSON.parse(notice.dataset.states || "{}");
  var doneText = notice.dataset.doneText || "%(done)s of %(total)s";
  var fill = function (template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  };
  var misses = 0;

  function show(cell, job) {
    var state = cell.querySelector(".job-state");
    if (state) { state.textContent = states[job.state] || job.state; }
    if (!job.total) { return; }
    var bar = cell.querySelector("progress");
    if (!bar) {
      bar = document.createElement("progress");
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(bar);
    }
    bar.max = job.total;
    bar.value = job.done;
    bar.textContent = (job.percent || 0) + " %";
    var done = cell.querySelector(".job-done");
    if (!done) {
      done = document.createElement("span");
      done.className = "job-done";
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(done);
    }
    done.textContent = fill(doneText, { done: job.done, total: job.total });
  }

  function poll() {
    Promise.all(urls.map(function (url) {
      return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    })).then(function (jobs) {
      var finished = 0;
      jobs.forEach(function (job, i) {
        if (!job) { misses += 1; return; }
        if (job.state === "done" || job.state === "failed") { finished += 1; }
        cells.forEach(function (cell) { if (cell.dataset.job === urls[i]) { show(cell, job); } });
      });
      if (finished === urls.length) {
        window.location.reload();
      } else if (misses < 30) {  // the link stays for whoever the status cannot reach
        window.setTimeout(poll, 2000);
      }
    });
  }
  window.setTimeout(poll, 2000);
}());
