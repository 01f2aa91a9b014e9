// Admin page helpers (no inline scripts: the CSP forbids them).
// 1. The publish progress bar polls the status endpoint and reloads the page when the build ends.
// 2. Enter in the "test a question" box runs the test instead of the form's default (preview).
// 3. After a save that failed, a preview or a trial, the page opens where the answer is (not at the top:
//    on a phone the result would be a long scroll away).
(function () {
  "use strict";

  function pollProgress(box) {
    var bar = document.getElementById("progress-bar");
    var text = document.getElementById("progress-text");
    var url = box.getAttribute("data-status-url");
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (s) {
          bar.value = s.percent;
          bar.textContent = s.percent + "%";
          if (s.state === "building") {
            text.textContent = "Đang xuất bản… " + s.percent + "%" + (s.total ? " (" + s.done + "/" + s.total + ")" : "");
            setTimeout(tick, 500);
          } else {
            text.textContent = s.state === "live" ? "Xong, đang tải lại trang…" : "Xuất bản không thành công, đang tải lại trang…";
            box.setAttribute("data-state", s.state);
            setTimeout(function () { window.location.replace("/publish"); }, 600);
          }
        })
        .catch(function () {
          text.textContent = "Mất kết nối tạm thời, đang thử lại…";
          setTimeout(tick, 2000);
        });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("progress-box");
    if (box && box.getAttribute("data-state") === "building") {
      pollProgress(box);
    }
    var conflict = document.getElementById("conflict");
    var firstError = document.querySelector(".field.has-error");
    var result = document.getElementById("trial-result") || document.getElementById("preview");
    if (conflict) {
      conflict.scrollIntoView();
    } else if (firstError) {
      firstError.scrollIntoView();
      var input = firstError.querySelector("input, textarea, select");
      if (input) { input.focus({ preventScroll: true }); }
    } else if (result) {
      result.scrollIntoView();
    }
    var question = document.getElementById("test_question");
    var testButton = document.getElementById("test-button");
    if (question && testButton) {
      question.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          testButton.click();
        }
      });
    }
  });
})();
