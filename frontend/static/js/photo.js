// Photos from the phone's camera are large; before upload, each chosen image is drawn
// onto a canvas at most 1600 px on its longer side and re-encoded as JPEG, which also
// drops its metadata (such as GPS position). Without script the server still accepts
// and downscales the original.
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  var QUALITY = 0.82;

  function downscale(file) {
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); });
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.files || !input.files[0]) return;
    var file = input.files[0];
    if (!/^image\//.test(file.type) || typeof createImageBitmap !== "function" || typeof DataTransfer !== "function") return;
    var form = input.form;
    var button = form && form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    downscale(file).then(function (blob) {
      if (!blob) return;
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], name, { type: "image/jpeg" }));
      input.files = transfer.files;
    }).catch(function () {
      // Not decodable here (e.g. HEIC on some browsers): send the original; the server decides.
    }).then(function () {
      if (button) button.disabled = false;
    });
  });
})();
