// Ask before a form marked data-confirm is sent (deleting a rule, …); without JS it is sent as is.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
