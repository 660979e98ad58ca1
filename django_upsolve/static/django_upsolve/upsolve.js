/*!
 * django-upsolve: keeps the token of embedded Upsolve iframes fresh, without a page reload.
 *
 * No dependencies, no build step, no inline script: everything is read from data- attributes
 * that the {% upsolve_dashboard %} / {% upsolve_application %} tags put on the script tag that
 * loads this file (each embed carries only data-upsolve-token-url, its marker, and
 * data-upsolve-expires, which a swap updates):
 *
 *   data-upsolve-origins         the hub origins the tags embed from
 *   data-upsolve-token-url       the token endpoint (POST, answers {token, expires_at, now})
 *   data-upsolve-tenant          the organization the page shows, sent back as X-Upsolve-Tenant
 *   data-upsolve-expires         when the current token expires (seconds since the epoch)
 *   data-upsolve-now             the server's clock when the page was rendered (same unit)
 *   data-upsolve-refresh-margin  ask for a new token this many seconds before expiry
 *   data-upsolve-csrf-header     the header that carries the CSRF token (X-CSRFTOKEN)
 *   data-upsolve-csrf-cookie     the CSRF cookie to read (absent when it is HttpOnly or
 *                                CSRF_USE_SESSIONS is on)
 *   data-upsolve-csrf-token      the CSRF token to send when that cookie cannot be read
 *
 * Only iframes marked as embeds (data-upsolve-token-url) whose address is on one of the hub
 * origins are ever given a token. Where to ask, with which CSRF token and for which tenant
 * is read from the script tag alone, and only a token URL on this page's own origin is ever
 * asked: markup injected into the page can add iframes, but can neither receive a token nor
 * make the script post anywhere else or for another organization.
 *
 * A pending iframe (background mode: the user's first token is still being fetched) is
 * hidden, carries its address without a token in data-upsolve-src and expires at 0: the
 * script asks at once, again after each 202's Retry-After, and shows the frame (removing the
 * "preparing" message beside it) as soon as a token comes.
 *
 * Shortly before the token expires (and as soon as a tab that slept past that moment wakes
 * up) the script fetches a new token and swaps the `jwt` parameter of every such iframe's
 * src. Each swapped iframe fires a bubbling `upsolve:refresh` event (detail: {expiresAt}).
 * A failed attempt fires `upsolve:error` on the document (detail: {status}, null when the
 * request failed or took longer than 15 s) and is retried with backoff, no sooner than a
 * `Retry-After` asks; a 401 (signed out), 403 (CSRF refused, or no analytics for this user
 * and organization), 404 or 405 stops the script. While a token stays on its way (202, or
 * `refreshing`), the script asks after each `Retry-After` at first, then less and less
 * often, down to once a minute.
 * `window.djangoUpsolve.refresh()` checks with the server now (and restarts a stopped
 * script): the server answers the current token, a new one only once that nears its expiry,
 * and the iframes are swapped only when the token changed. On a page without such an iframe
 * the script does nothing.
 */
(function () {
  "use strict";

  var SELECTOR = "iframe[data-upsolve-token-url]";
  var HEARTBEAT = 15; // seconds: the clock is read at least this often, so sleep cannot fool us
  var MAX_BACKOFF = 60; // seconds between two failed attempts, at most
  var MAX_SKEW = 30; // seconds: a larger gap to the server's clock is checked with the server
  var TIMEOUT = 15; // seconds: a request still unanswered then is aborted and counts as failed
  var FINAL = [401, 403, 404, 405]; // answers that retrying cannot change

  if (window.djangoUpsolve) {
    return; // loaded twice
  }

  var script = document.currentScript;

  function setting(name) {
    return script ? script.getAttribute(name) : null;
  }

  var origins = (setting("data-upsolve-origins") || "").split(/\s+/).filter(Boolean);
  var tokenUrl = setting("data-upsolve-token-url");

  function originOf(url) {
    try {
      return new URL(url, document.baseURI).origin;
    } catch (error) {
      return null;
    }
  }

  function address(frame) {
    return frame.getAttribute("data-upsolve-src") || frame.getAttribute("src") || "";
  }

  // Embeds on a configured hub origin.
  function trusted(frame) {
    return origins.indexOf(originOf(address(frame))) !== -1;
  }

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll(SELECTOR)).filter(trusted);
  }

  function numberSetting(name) {
    var value = parseFloat(setting(name));
    return isFinite(value) ? value : NaN;
  }

  if (!tokenUrl || originOf(tokenUrl) !== window.location.origin || !frames().length) {
    window.djangoUpsolve = { refresh: function () {} };
    return;
  }

  var margin = Math.max(numberSetting("data-upsolve-refresh-margin") || 0, 0);
  var expires = numberSetting("data-upsolve-expires");
  var renderedAt = numberSetting("data-upsolve-now");
  var clientNow = Date.now() / 1000;
  // Server clock minus ours. A large gap means a skewed clock or a page from the cache.
  var offset = isFinite(renderedAt) ? renderedAt - clientNow : 0;
  // Whether the server's clock confirmed `offset`; until then, when the token expires by our
  // clock says nothing, and a failed attempt is retried soon.
  var confirmed = isFinite(renderedAt) && Math.abs(offset) <= MAX_SKEW;
  var failures = 0;
  var polls = 0; // answers in a row saying a token is on its way
  var nextAttempt = !confirmed || !isFinite(expires) ? serverNow() : planned();
  var timer = null;
  var busy = false;
  var stopped = false;

  function serverNow() {
    return Date.now() / 1000 + offset;
  }

  // When to ask for the next token: `margin` before expiry, or halfway through what is left
  // when the token arrived with less than that (so a margin longer than the lifetime
  // cannot make the script ask in a loop).
  function planned() {
    var now = serverNow();
    var at = expires - margin;
    return at > now ? at : now + Math.max(expires - now, 0) / 2;
  }

  // After a failure: exponential backoff, or the server's Retry-After if that is longer.
  function backoff(retryAfter) {
    failures += 1;
    var wait = Math.max(Math.min(Math.pow(2, failures), MAX_BACKOFF), retryAfter || 0);
    var at = serverNow() + wait;
    return confirmed ? Math.max(planned(), at) : at;
  }

  // While a token is on its way: after Retry-After at first, then ever more slowly (a worker
  // that is down must not have every open tab ask each second for as long as it lasts).
  function poll(retryAfter) {
    polls += 1;
    var wait = Math.max(retryAfter || 2, Math.min(Math.pow(2, polls / 5), MAX_BACKOFF));
    return serverNow() + wait;
  }

  function schedule() {
    window.clearTimeout(timer);
    if (stopped) {
      return;
    }
    var wait = Math.min(Math.max(nextAttempt - serverNow(), 0), HEARTBEAT);
    timer = window.setTimeout(check, wait * 1000);
  }

  function check() {
    if (stopped || busy) {
      return;
    }
    if (serverNow() >= nextAttempt) {
      refresh();
    } else {
      schedule();
    }
  }

  function readCookie(name) {
    var pairs = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < pairs.length; i++) {
      var pair = pairs[i].trim();
      if (pair.slice(0, name.length + 1) === name + "=") {
        try {
          return decodeURIComponent(pair.slice(name.length + 1));
        } catch (error) {
          return null; // malformed (planted by a sibling domain?): use the attribute instead
        }
      }
    }
    return null;
  }

  function csrfToken() {
    var cookie = setting("data-upsolve-csrf-cookie");
    return (cookie && readCookie(cookie)) || setting("data-upsolve-csrf-token") || "";
  }

  function requestHeaders() {
    var headers = { Accept: "application/json" };
    headers[setting("data-upsolve-csrf-header") || "X-CSRFToken"] = csrfToken();
    var tenant = setting("data-upsolve-tenant");
    if (tenant) {
      // The page's organization, whatever other tabs switch to (percent-encoded: a header
      // carries Latin-1 only).
      headers["X-Upsolve-Tenant"] = encodeURIComponent(tenant);
    }
    return headers;
  }

  function emit(target, name, detail) {
    target.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  }

  // A pending frame's wrapper loses its "preparing" message once the frame shows.
  function reveal(frame) {
    frame.removeAttribute("data-upsolve-src");
    frame.hidden = false;
    var wrapper = frame.parentNode;
    if (wrapper && wrapper.hasAttribute && wrapper.hasAttribute("data-upsolve-pending")) {
      var message = wrapper.querySelector("[data-upsolve-placeholder]");
      if (message) {
        wrapper.removeChild(message);
      }
      wrapper.removeAttribute("data-upsolve-pending");
    }
  }

  function swap(token, expiresAt) {
    expires = expiresAt;
    frames().forEach(function (frame) {
      var url = new URL(address(frame), document.baseURI);
      url.searchParams.set("jwt", token);
      frame.setAttribute("data-upsolve-expires", String(expiresAt));
      frame.src = url.toString();
      if (frame.hidden) {
        reveal(frame);
      }
      emit(frame, "upsolve:refresh", { expiresAt: expiresAt });
    });
  }

  // Seconds from a Retry-After header; its HTTP-date form reads as NaN and is ignored.
  function retryAfterOf(response) {
    var seconds = parseFloat(response.headers.get("Retry-After"));
    return isFinite(seconds) && seconds > 0 ? seconds : 0;
  }

  function fail(status, retryAfter) {
    if (FINAL.indexOf(status) !== -1) {
      stopped = true;
    } else {
      nextAttempt = backoff(retryAfter);
    }
    emit(document, "upsolve:error", { status: status });
  }

  function refresh() {
    busy = true;
    var controller = new AbortController();
    var deadline = window.setTimeout(function () {
      controller.abort();
    }, TIMEOUT * 1000);
    // Inside the chain: whatever throws while building the request is a failed attempt too.
    Promise.resolve()
      .then(function () {
        return window.fetch(tokenUrl, {
          method: "POST",
          credentials: "same-origin",
          cache: "no-store",
          headers: requestHeaders(),
          signal: controller.signal,
        });
      })
      .then(function (response) {
        var retryAfter = retryAfterOf(response);
        if (response.status === 202) {
          // A token is on its way (background mode): not a failure, ask again soon.
          nextAttempt = poll(retryAfter);
          return;
        }
        if (!response.ok) {
          return fail(response.status, retryAfter);
        }
        return response.json().then(function (data) {
          var token = data && data.token;
          if (typeof token !== "string" || !token || !Number.isFinite(data.expires_at)) {
            return fail(response.status);
          }
          if (Number.isFinite(data.now)) {
            offset = data.now - Date.now() / 1000;
            confirmed = true;
          }
          var refreshing = data.refreshing === true;
          if (data.expires_at <= expires) {
            if (refreshing) {
              nextAttempt = poll(retryAfter); // a new token is on its way
              return;
            }
            // The server still finds the current token fresh: our clock was off.
            nextAttempt = planned() > serverNow() + 1 ? planned() : backoff();
            return;
          }
          failures = 0;
          swap(token, data.expires_at);
          if (!refreshing) {
            polls = 0;
          }
          nextAttempt = refreshing ? poll(retryAfter) : planned();
        });
      })
      .catch(function () {
        fail(null);
      })
      .then(function () {
        window.clearTimeout(deadline);
        busy = false;
        schedule();
      });
  }

  function onWake() {
    if (!document.hidden) {
      check();
    }
  }

  document.addEventListener("visibilitychange", onWake);
  window.addEventListener("focus", onWake);
  window.addEventListener("pageshow", onWake);
  window.addEventListener("online", onWake);

  window.djangoUpsolve = {
    refresh: function () {
      stopped = false;
      nextAttempt = serverNow();
      check();
    },
  };
  schedule();
})();
