// Vehicle photos: upload with a progress bar, and drag to reorder. Without this file the page
// still works: the form posts normally and the arrow buttons reorder.
(function () {
  "use strict";
  var form = document.getElementById("photo-upload");
  if (!form) return;
  var progress = document.getElementById("upload-progress");
  var statusLine = document.getElementById("upload-status");
  var csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function replacePhotos(html) {
    var current = document.getElementById("photos");
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.querySelector("#photos");
    if (!current || !fresh) return;
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!window.FormData || !input || !input.files.length) return; // let the browser post it
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.setRequestHeader("X-CSRFToken", csrfToken);
    progress.hidden = false;
    progress.value = 0;
    // The page's words, in its language (data-* attributes of the form).
    statusLine.textContent = (form.dataset.sending || "Sending {count} photo(s)…").replace("{count}", input.files.length);
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", function () {
      progress.hidden = true;
      // Only an answer with the photo grid is the page's own; anything else (the login page after
      // the session ran out, a refusal before the page was reached) keeps the chosen files.
      var answered = request.status < 500 && request.responseText.indexOf('id="photos"') !== -1;
      statusLine.textContent = answered ? "" : form.dataset.failed || "The upload failed; try again.";
      if (answered) {
        replacePhotos(request.responseText);
        form.reset();
      }
    });
    request.addEventListener("error", function () {
      progress.hidden = true;
      statusLine.textContent = form.dataset.lost || "The connection was lost during the upload; try again.";
    });
    request.send(new FormData(form));
  });

  // Drag and drop reordering, delegated so it keeps working after the grid is refreshed.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".photo-card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.photoId);
  });
  document.addEventListener("dragover", function (event) {
    var target = event.target.closest && event.target.closest(".photo-card");
    if (!dragged || !target || target === dragged) return;
    event.preventDefault();
    document.querySelectorAll(".photo-card.drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    target.classList.add("drop-target");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".photo-card.drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    dragged = null;
  });
  document.addEventListener("drop", function (event) {
    var target = event.target.closest && event.target.closest(".photo-card");
    if (!dragged || !target || target === dragged) return;
    event.preventDefault();
    var cards = Array.prototype.slice.call(target.parentNode.children);
    var before = cards.indexOf(dragged) > cards.indexOf(target) ? target : target.nextSibling;
    target.parentNode.insertBefore(dragged, before);
    var order = Array.prototype.map.call(target.parentNode.querySelectorAll(".photo-card"), function (el) {
      return el.dataset.photoId;
    });
    var photos = document.getElementById("photos");
    var body = new FormData();
    body.append("order", order.join(","));
    var request = new XMLHttpRequest();
    request.open("POST", photos.dataset.orderUrl);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.setRequestHeader("X-CSRFToken", csrfToken);
    request.addEventListener("load", function () { replacePhotos(request.responseText); });
    request.send(body);
  });
})();
