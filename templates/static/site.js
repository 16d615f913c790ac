// Plays each muted animation while it is on screen and pauses it when it leaves, so a reader
// who scrolls never waits on a video that is out of sight. Without JavaScript the controls work.
(function () {
  "use strict";
  if (!("IntersectionObserver" in window)) { return; }
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (reduceMotion) { return; }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var video = entry.target;
      if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
        var playing = video.play();
        if (playing && playing.catch) { playing.catch(function () { /* autoplay refused: controls remain */ }); }
      } else if (!video.paused) {
        video.pause();
      }
    });
  }, { threshold: [0, 0.5] });
  document.querySelectorAll("video").forEach(function (video) { observer.observe(video); });
})();
