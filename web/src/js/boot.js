// Runs right after vendor/maplibre-gl.js (both deferred, in order): points MapLibre at its
// worker file and starts the worker at once, so that it boots while the page's modules load.
(function boot() {
  const base = document.currentScript.src.replace(/js\/boot\.js.*$/, '');
  window.maplibregl.setWorkerUrl(`${base}vendor/maplibre-gl-worker.js`);
  window.maplibregl.prewarm();
})();
