// Vehicle photos: a button that moves, promotes or deletes a photo redraws the grid (htmx), which
// would leave keyboard focus nowhere. htmx puts it back on the button with the same id; when that
// button is gone (the photo became first or last, or was deleted), this puts it on the photo's
// first button, or on the first button of the photo that took its place.
(function () {
  "use strict";
  var actedOn = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var card = event.target.closest && event.target.closest("#photo-grid .photo-card");
    if (!card) return;
    actedOn = {
      request: event.detail.xhr,
      photoId: card.dataset.photoId,
      place: Array.prototype.indexOf.call(card.parentNode.children, card),
    };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // Only the answer to that button's request: the grid also redraws itself while photos are prepared.
    if (!actedOn || event.detail.xhr !== actedOn.request) return;
    var photo = actedOn;
    actedOn = null;
    if (document.activeElement && document.activeElement !== document.body) return;
    var cards = document.querySelectorAll("#photo-grid .photo-card");
    var card =
      document.querySelector('#photo-grid .photo-card[data-photo-id="' + photo.photoId + '"]') ||
      cards[Math.min(photo.place, cards.length - 1)];
    var target = card ? card.querySelector("button") : document.querySelector("#photo-upload input[type=file]");
    if (target) target.focus();
  });
})();
