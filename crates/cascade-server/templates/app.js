// Live hints for the signed-in pages of Cascade's web app. The pages work without this
// script; it only opens the server-sent event stream of the page (same origin, the
// session cookie authenticates it) and, instead of moving the page, shows a "new posts"
// bar, the count of new notifications, and a notice when one's own post goes viral.
(function () {
  "use strict";
  // A live character count under each compose box.
  Array.prototype.forEach.call(document.querySelectorAll("textarea[maxlength]"), function (area) {
    var note = document.getElementById(area.getAttribute("aria-describedby") || "");
    if (!note) return;
    var max = Number(area.getAttribute("maxlength"));
    var update = function () {
      var left = max - Array.from(area.value).length;
      note.textContent = left + (left === 1 ? " character left" : " characters left");
    };
    area.addEventListener("input", update);
    update();
  });
})();

(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !window.EventSource) return;
  // A page that names no stream still hears the person's own: the badge and the
  // going-viral notice show on every page.
  var stream = main.getAttribute("data-stream") || "quiet";
  var bar = document.getElementById("new-posts");
  var fresh = 0;
  var unread = 0;
  var path = stream === "public" ? "/api/v1/streaming/public/local" : "/api/v1/streaming/user";
  if (stream === "watch") {
    path = "/api/v1/streaming/cascade/watch?watch=" + encodeURIComponent(main.getAttribute("data-watch") || "");
  }
  var source = new EventSource(path);
  // A page left for another must let its stream go: browsers keep at most six
  // connections to a server, and a page kept in the back-forward cache would otherwise
  // hold its stream open until the next navigation has none left. Coming back to such a
  // page reloads it, which opens a fresh stream and shows what happened meanwhile.
  window.addEventListener("pagehide", function () { source.close(); });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });

  function showBar() {
    if (!bar) return;
    var button = bar.querySelector("button");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "primary newbar";
      button.addEventListener("click", function () { window.location.reload(); });
      bar.appendChild(button);
      bar.setAttribute("role", "status");
    }
    var what = stream === "watch" ? (fresh === 1 ? "1 new hit" : fresh + " new hits") :
      (fresh === 1 ? "1 new post" : fresh + " new posts");
    button.textContent = what + (fresh === 1 ? ": show it" : ": show them");
  }

  function showBadge() {
    var link = document.getElementById("nav-notifications");
    if (!link) return;
    var badge = document.getElementById("unread");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge";
      badge.id = "unread";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    badge.textContent = String(unread) + "+";
  }

  // "Your post is going viral": a notice at the top of the page, linking to the spread
  // page, announced politely to screen readers.
  function showViral(n) {
    if (!n.status || !n.status.url) return;
    var notice = document.getElementById("going-viral");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "going-viral";
      notice.className = "card viral";
      notice.setAttribute("role", "status");
      main.insertBefore(notice, main.firstChild);
    }
    notice.textContent = "Your post is going viral. ";
    var link = document.createElement("a");
    link.href = n.status.url + "/cascade";
    link.textContent = "See how it spreads";
    notice.appendChild(link);
  }
  source.addEventListener("notification", function (event) {
    var n;
    try { n = JSON.parse(event.data); } catch (e) { return; }
    if (n.type === "going_viral") showViral(n);
  });

  var spreadOf = main.getAttribute("data-spread-of");
  var spread = 0;
  function showSpread(viral) {
    if (!bar) return;
    var button = bar.querySelector("button");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "primary newbar";
      button.addEventListener("click", function () { window.location.reload(); });
      bar.appendChild(button);
      bar.setAttribute("role", "status");
    }
    button.textContent = (viral ? "It is going viral! " : "") +
      (spread === 1 ? "Reshared once more" : "Reshared " + spread + " more times") + ": redraw";
  }
  if (spreadOf) {
    // The spread page: the author's stream says when the post is reshared or goes viral.
    source.addEventListener("notification", function (event) {
      var n;
      try { n = JSON.parse(event.data); } catch (e) { return; }
      if (!n.status || n.status.id !== spreadOf) return;
      if (n.type === "reblog" || n.type === "quote") spread += 1;
      if (n.type === "reblog" || n.type === "quote" || n.type === "going_viral") {
        showSpread(n.type === "going_viral");
      }
    });
    return;
  }

  source.addEventListener("update", function () {
    if (stream === "quiet") return;
    fresh += 1;
    showBar();
  });
  source.addEventListener("notification", function () {
    unread += 1;
    showBadge();
    if (document.querySelector("[data-stream] .notification") || window.location.pathname === "/web/notifications") {
      fresh += 1;
      showBar();
    }
  });
})();
