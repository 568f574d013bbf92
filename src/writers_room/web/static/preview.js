/* The render preview: plays the HLS ladder with hls.js (or the browser's own HLS), and
 * lets the viewer pick a rung. Every URL on the page already carries the link's token;
 * the server adds it to the playlists' URIs too.
 *
 * A button's data-level is the rung's place in the master playlist; hls.js keeps its
 * levels in its own order (by bitrate), so a button is matched to a level by its
 * playlist's path. */
(function () {
  "use strict";
  var video = document.getElementById("video");
  var status = document.getElementById("status");
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".rungs button"));
  var master = video.getAttribute("data-master");
  var hls = null;
  var parsed = false;
  var buffered = false;
  var wanted = -1; // the chosen rung (data-level), -1 = automatic

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "status error" : "status";
  }

  function buttonFor(rung) {
    return buttons.filter(function (b) { return Number(b.getAttribute("data-level")) === rung; })[0];
  }

  function levelUrl(level) {
    var url = level.url || level.uri || "";
    return String(Array.isArray(url) ? url[0] : url).split("?")[0];
  }

  // The hls.js level that plays a rung, or -1.
  function levelOf(rung) {
    var b = buttonFor(rung);
    if (!hls || !b) return -1;
    var path = "/" + b.getAttribute("data-path");
    for (var i = 0; i < hls.levels.length; i++) {
      if (levelUrl(hls.levels[i]).slice(-path.length) === path) return i;
    }
    return -1;
  }

  // The rung an hls.js level plays, or -1.
  function rungOf(level) {
    for (var i = 0; i < buttons.length; i++) {
      var rung = Number(buttons[i].getAttribute("data-level"));
      if (rung >= 0 && levelOf(rung) === level) return rung;
    }
    return -1;
  }

  function press(rung) {
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-level")) === rung));
    });
  }

  function playing() {
    if (!video.videoHeight) return;
    var name = "";
    if (hls && hls.currentLevel >= 0) {
      var b = buttonFor(rungOf(hls.currentLevel));
      name = b ? b.getAttribute("data-name") : "";
    }
    var how = wanted === -1 ? "chosen automatically" : "chosen";
    say("Playing " + video.videoWidth + "×" + video.videoHeight +
        (name ? " — " + name + ", " + how : ""));
  }

  function apply() {
    if (!hls || !parsed) return; // applied once the master playlist is read
    var level = wanted === -1 ? -1 : levelOf(wanted);
    // Once something is buffered, currentLevel switches at once (the buffer is flushed);
    // before that there is nothing to flush, and loadLevel picks the first fragment's
    // rung (a flush then would wait for buffers that do not exist yet). -1 = automatic.
    if (buffered) hls.currentLevel = level;
    else hls.loadLevel = level;
  }

  function choose(rung) {
    wanted = rung;
    press(rung);
    if (hls) {
      apply();
    } else {
      var b = buttonFor(rung);
      var at = video.currentTime;
      video.src = rung === -1 || !b ? master : b.getAttribute("data-uri");
      video.addEventListener("loadedmetadata", function once() {
        video.removeEventListener("loadedmetadata", once);
        if (at) video.currentTime = at;
      });
    }
    var b2 = buttonFor(rung);
    say("Loading " + (b2 ? b2.getAttribute("data-name") : "auto") + "…");
    var played = video.play();
    if (played && played.catch) played.catch(function () { say("Press play to start."); });
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () { choose(Number(b.getAttribute("data-level"))); });
  });
  video.addEventListener("resize", playing);
  video.addEventListener("playing", playing);
  video.addEventListener("error", function () { say("The video could not be played.", true); });

  if (window.Hls && window.Hls.isSupported()) {
    hls = new window.Hls({ capLevelToPlayerSize: false, startLevel: -1 });
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () { parsed = true; apply(); });
    hls.on(window.Hls.Events.FRAG_BUFFERED, function () { buffered = true; });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, playing);
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (data && data.fatal) say("Playback stopped: " + data.details, true);
    });
    hls.loadSource(master);
    hls.attachMedia(video);
    window.roomPlayer = hls;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = master;
  } else {
    say("This browser cannot play HLS; download episode.mp4 instead.", true);
  }
  press(-1);
  video.setAttribute("data-ready", "1");
})();
