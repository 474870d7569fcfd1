// The tab's title starts with how many leads wait for an answer, as the menu's count says it each
// time it is refreshed: a supervisor working in another window sees "(3) …" on the tab.
const untitled = document.title;
document.addEventListener("htmx:load", (event) => {
  const link = event.detail.elt;
  if (link.id === "nav-leads") {
    const waiting = Number(link.dataset.waiting);
    document.title = waiting ? `(${waiting}) ${untitled}` : untitled;
  }
});
