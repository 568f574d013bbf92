/* The render preview: plays the HLS ladder with hls.js (or the browser's own HLS), and
 * lets the viewer pick a rung. Every URL on the page already carries the link's token;
 * the server adds it to the playlists' URIs too. */
(function () {
  "use strict";
  var video = document.getElementById("video");
  var status = document.getElementById("status");
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".rungs button"));
  var master = video.getAttribute("data-master");
  var hls = null;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "status error" : "status";
  }

  function press(level) {
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-level")) === level));
    });
  }

  function describe(level) {
    var b = buttons.filter(function (x) { return Number(x.getAttribute("data-level")) === level; })[0];
    return b ? b.getAttribute("data-name") : "auto";
  }

  function playing() {
    if (!video.videoHeight) return;
    var chosen = hls ? hls.manualLevel : Number(video.getAttribute("data-level") || -1);
    var mode = chosen === -1 ? "auto" : describe(chosen);
    video.setAttribute("data-playing-height", String(video.videoHeight));
    say("Playing " + video.videoWidth + "×" + video.videoHeight + " (" + mode + ")");
  }

  function choose(level) {
    press(level);
    video.setAttribute("data-level", String(level));
    if (hls) {
      // currentLevel switches at once (the buffer is flushed); -1 returns to automatic.
      if (level === -1) { hls.currentLevel = -1; hls.loadLevel = -1; }
      else { hls.currentLevel = level; }
    } else {
      var b = buttons.filter(function (x) { return Number(x.getAttribute("data-level")) === level; })[0];
      var at = video.currentTime;
      video.src = level === -1 || !b ? master : b.getAttribute("data-uri");
      video.addEventListener("loadedmetadata", function once() {
        video.removeEventListener("loadedmetadata", once);
        if (at) video.currentTime = at;
      });
    }
    say("Loading " + describe(level) + "…");
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
