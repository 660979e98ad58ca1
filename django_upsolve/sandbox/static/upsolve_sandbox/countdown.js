/* Upsolve sandbox: counts down to the token's expiry (data-upsolve-exp, seconds since the epoch). */
(function () {
  "use strict";
  var expires = document.querySelector("[data-upsolve-exp]");
  var output = document.getElementById("upsolve-countdown");
  var page = document.getElementById("upsolve-sandbox");
  if (!expires || !output || !page) {
    return;
  }
  var exp = Number(expires.getAttribute("data-upsolve-exp"));
  var timer = null;

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function tick() {
    var left = Math.max(0, Math.floor(exp - Date.now() / 1000));
    if (left === 0) {
      output.textContent = "Token expired";
      page.setAttribute("data-upsolve-expired", "true");
      if (timer !== null) {
        window.clearInterval(timer);
      }
      return;
    }
    var hours = Math.floor(left / 3600);
    var minutes = Math.floor((left % 3600) / 60);
    output.textContent = hours + ":" + pad(minutes) + ":" + pad(left % 60);
  }

  tick();
  timer = window.setInterval(tick, 1000);
})();
