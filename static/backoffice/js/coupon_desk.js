/* 核销 desk: read a coupon's QR code or barcode with the camera where the browser has
   BarcodeDetector (Chrome on Android, Edge…), then look it up like a typed code. Scanners
   that type and press Enter, and typing, work without this. */
(function () {
  var button = document.getElementById("desk-camera");
  var form = document.getElementById("desk-lookup");
  if (!button || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var box = document.getElementById("desk-scan");
  var video = document.getElementById("desk-video");
  var input = form.querySelector("input[name=code]");
  var stream = null;

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    box.hidden = true;
  }

  BarcodeDetector.getSupportedFormats().then(function (formats) {
    var wanted = ["qr_code", "code_128"].filter(function (f) { return formats.indexOf(f) >= 0; });
    if (!wanted.length) return;
    var detector = new BarcodeDetector({formats: wanted});
    button.hidden = false;
    button.addEventListener("click", function () {
      if (stream) { stop(); return; }
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          box.hidden = false;
          return video.play();
        })
        .then(function scan() {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            if (codes.length && codes[0].rawValue) {
              input.value = codes[0].rawValue;
              stop();
              form.submit();
            } else {
              window.requestAnimationFrame(scan);
            }
          }, function () { window.requestAnimationFrame(scan); });
        })
        .catch(function () { stop(); button.hidden = true; });
    });
  });
})();
